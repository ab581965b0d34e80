// Run by the one-shot `mongo-init` service of docker-compose.yml (mongosh --file, logged in
// as the root user the image created): makes the `mongo` service a single-node replica set
// named rs0, waits until it is primary, then creates (or updates) Vigil's user.
// Idempotent: on every later `docker compose up` it finds the set initiated and the user
// there, and only brings the user's password and roles to what compose gives.
// A replica set is what Vigil needs: majority-acknowledged writes and transactions
// (docs/decisions/draft-mongodb-write-path.md).

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

// Least privilege: Vigil reads and writes its own database, and reads the feature
// compatibility version at start (getParameter). Changing the retention (`vigil
// retention DAYS`, a collMod) is left to an administrator: docs/deployment.md.
const admin = db.getSiblingDB("admin");
const serverRole = {
  privileges: [{ resource: { cluster: true }, actions: ["getParameter"] }],
  roles: [],
};
if (admin.getRole("vigilServer") === null) {
  admin.createRole({ role: "vigilServer", ...serverRole });
} else {
  admin.updateRole("vigilServer", serverRole);
}
const password = process.env.VIGIL_MONGO_PASSWORD;
if (!password) {
  throw new Error("VIGIL_MONGO_PASSWORD is not set");
}
const roles = [
  { role: "readWrite", db: "vigil" },
  { role: "vigilServer", db: "admin" },
];
if (admin.getUser("vigil") === null) {
  admin.createUser({ user: "vigil", pwd: password, roles: roles });
  print("user vigil created");
} else {
  admin.updateUser("vigil", { pwd: password, roles: roles });
  print("user vigil updated");
}
