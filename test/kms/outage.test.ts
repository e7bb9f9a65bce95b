import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { ListTagResourcesRequest } from "@alicloud/ecs20140526";
import type { KMSClient } from "@aws-sdk/client-kms";
import { aliError, sdkError, startServer, type TestServer } from "../helpers.ts";
import { dropSchema, PG_SKIP, PG_URL } from "../store/engines.ts";
import { kmsTagsOf, newKeyId, tagKey } from "./kms.ts";

/**
 * KMS's answer while the database cannot be reached: DependencyTimeoutException, 503, and the
 * service recovers by itself. tagd reaches PostgreSQL through a TCP relay in this process, which the
 * test cuts and restores.
 */
class Relay {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<Relay> {
    const probe = net.createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, "127.0.0.1", () => resolve((probe.address() as net.AddressInfo).port)),
    );
    await new Promise((r) => probe.close(r));
    const relay = new Relay(target, port);
    await relay.open();
    return relay;
  }

  open(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    const server = this.server;
    return new Promise((resolve) => server.listen(this.port, "127.0.0.1", () => resolve()));
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((r) => server.close(r));
  }
}

describe("KMS and ECS while the database is unreachable (postgres)", { skip: PG_SKIP }, () => {
  let relay: Relay;
  let server: TestServer;
  let kms: KMSClient;
  const schema = `tagd_kms_outage_${randomBytes(6).toString("hex")}`;
  before(async () => {
    const url = new URL(PG_URL as string);
    relay = await Relay.start({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = "127.0.0.1";
    url.port = String(relay.port);
    server = await startServer({ databaseUrl: url.toString(), schema });
    kms = server.kms();
  });
  after(async () => {
    await server.stop(true);
    await relay.cut();
    await dropSchema(PG_URL as string, schema);
  });

  test("DependencyTimeoutException (503) while down, success again once it is back", {
    timeout: 60_000,
  }, async () => {
    const id = newKeyId();
    await tagKey(kms, id, { before: "1" });
    await relay.cut();
    const err = await sdkError(tagKey(kms, id, { during: "1" }));
    assert.equal(err.name, "DependencyTimeoutException");
    assert.equal(err.status, 503);
    const listed = await sdkError(kmsTagsOf(kms, id));
    assert.equal(listed.name, "DependencyTimeoutException");
    // Alibaba ECS, meanwhile: its ListTagResources table gives ServiceUnavailable as 500.
    const ecs = await aliError(
      server.ecs().listTagResources(
        new ListTagResourcesRequest({
          regionId: "cn-hangzhou",
          resourceType: "instance",
          resourceId: ["i-1"],
        }),
      ),
    );
    assert.equal(ecs.code, "ServiceUnavailable");
    assert.equal(ecs.status, 500);
    await relay.open();
    let back = false;
    for (let i = 0; i < 100 && !back; i++) {
      back = (await fetch(`${server.url}/health`)).status === 200;
      if (!back) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(back, "tagd did not recover");
    await tagKey(kms, id, { after: "1" });
    assert.deepEqual(await kmsTagsOf(kms, id), { before: "1", after: "1" });
  });
});
