"""Compliance test helpers: the GraphQL operations, and audit rows tampered with directly in
each store (DuckDB's file, the MongoDB emulator's collection), never through Vigil."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import duckdb

from tests.contract.mongo_emulator import _EMULATORS, open_mongo_emulated
from tests.support import RunningVigil, make_settings, serve

AUDIT = """query($p: String!, $first: Int) { auditLog(project: $p, first: $first) {
  seq actor role action project outcome target client requestId detail chainIndex hash
  changes { field old new redacted } } }"""
VERIFY = """query($p: String!) { verifyAuditLog(project: $p) { verified entriesChecked headIndex
  checkpointsVerified unsealedEntries lastCheckpoint { chainIndex keyId }
  firstBreak { kind chainIndex seq detail } } }"""
ACCESS = """query($p: String!) { accessReview(project: $p) { subjects { subject role used flags
  idleDays suggestedRole lastTokenId longestTokenDays } revocations { kind value by } } }"""
START = """mutation($p: String!) { startAccessReview(project: $p) { id completedAt pending
  subjects { subject role flags } } }"""
APPROVE = """mutation($p: String!, $r: ID!, $s: String!) {
  approveAccess(project: $p, reviewId: $r, subject: $s, comment: "needed") {
  id completedAt pending decisions { subject decision by } } }"""
REVOKE = """mutation($p: String!, $s: String, $t: ID, $r: ID) {
  revokeAccess(project: $p, subject: $s, tokenId: $t, reviewId: $r, reason: "left the team") {
  kind value by reason reviewId } }"""
RESTORE = """mutation($p: String!, $s: String, $t: ID) {
  restoreAccess(project: $p, subject: $s, tokenId: $t) }"""
REPORT = """query($p: String!, $f: ComplianceFramework!) {
  complianceReport(project: $p, framework: $f) { status framework
  controls { id check status detail evidence } } }"""
RUN = """mutation($p: String!) { runComplianceCheck(project: $p) { run status
  results { check status detail } } }"""
CHECKED = """subscription($p: String!) { complianceChecked(project: $p) { project run status
  scheduled failing results { check status } } }"""
NAMES = """query($p: String!) { metricNames(project: $p) }"""
POINTS = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""


def claims_of(token: str) -> dict[str, Any]:
    import base64
    import json

    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


class DuckDBAudit:
    """Rows of a DuckDB file that no Vigil has open."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _sql(self, sql: str, *params: Any) -> list[Any]:
        with duckdb.connect(str(self.path)) as con:
            return con.execute(sql, list(params)).fetchall()

    def seq_at(self, project: str, index: int) -> int:
        return int(
            self._sql(
                "SELECT seq FROM audit WHERE project = ? AND chain_index = ?", project, index
            )[0][0]
        )

    def edit(self, project: str, index: int) -> None:
        self._sql(
            "UPDATE audit SET outcome = 'ok', actor = 'mallory'"
            " WHERE project = ? AND chain_index = ?",
            project,
            index,
        )

    def delete(self, project: str, index: int) -> None:
        self._sql("DELETE FROM audit WHERE project = ? AND chain_index = ?", project, index)

    def swap(self, project: str, i: int, j: int) -> None:
        """Exchange the places of two entries (their index and seq)."""
        a, b = self.seq_at(project, i), self.seq_at(project, j)
        with duckdb.connect(str(self.path)) as con:
            for sql, args in (
                ("UPDATE audit SET chain_index = -1, seq = -1 WHERE seq = ?", [a]),
                ("UPDATE audit SET chain_index = ?, seq = ? WHERE seq = ?", [i, a, b]),
                ("UPDATE audit SET chain_index = ?, seq = ? WHERE seq = -1", [j, b]),
            ):
                con.execute(sql, args)


class MongoAudit:
    """The emulated MongoDB's audit collection, changed behind Vigil's back."""

    def __init__(self, tmp_path: Path) -> None:
        self.collection = _EMULATORS[str(tmp_path)]._client["vigil"]["audit"]

    def seq_at(self, project: str, index: int) -> int:
        return int(self.collection.find_one({"project": project, "chain_index": index})["seq"])

    def edit(self, project: str, index: int) -> None:
        self.collection.update_one(
            {"project": project, "chain_index": index},
            {"$set": {"outcome": "ok", "actor": "mallory"}},
        )

    def delete(self, project: str, index: int) -> None:
        self.collection.delete_one({"project": project, "chain_index": index})

    def swap(self, project: str, i: int, j: int) -> None:
        a = self.collection.find_one({"project": project, "chain_index": i})
        b = self.collection.find_one({"project": project, "chain_index": j})
        self.collection.update_one({"_id": a["_id"]}, {"$set": {"chain_index": -1, "seq": -1}})
        self.collection.update_one({"_id": b["_id"]}, {"$set": {"chain_index": i, "seq": a["seq"]}})
        self.collection.update_one({"_id": a["_id"]}, {"$set": {"chain_index": j, "seq": b["seq"]}})


@contextlib.asynccontextmanager
async def vigil_on(kind: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[RunningVigil]:
    """A Vigil on DuckDB, or on the MongoDB emulator (the same tests on both stores)."""
    settings = make_settings(tmp_path, **overrides)
    if kind == "duckdb":
        async with serve(settings) as vigil:
            yield vigil
        return
    database = await open_mongo_emulated(tmp_path)
    try:
        async with serve(settings, database=database) as vigil:
            yield vigil
    finally:
        await database.close()
