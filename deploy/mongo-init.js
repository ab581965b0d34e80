// Run by the one-shot `mongo-init` service of docker-compose.yml (mongosh --file): makes the
// `mongo` service a single-node replica set named rs0, then waits until it is primary.
// Idempotent: on every later `docker compose up` it finds the set initiated and only waits.
// A replica set is what Vigil's acknowledgements need (w: "majority", j: true; ADR 0004).

const config = { _id: "rs0", members: [{ _id: 0, host: "mongo:27017" }] };

try {
  rs.status();
  print("replica set rs0 already initiated");
} catch (error) {
  if (error.codeName !== "NotYetInitialized") {
    throw error;
  }
  rs.initiate(config);
  print("replica set rs0 initiated");
}

const deadline = Date.now() + 60 * 1000;
while (!db.hello().isWritablePrimary) {
  if (Date.now() > deadline) {
    throw new Error("mongo did not become primary of rs0 within 60 s");
  }
  sleep(500);
}
print("mongo is primary of rs0");
