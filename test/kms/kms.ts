import { randomUUID } from "node:crypto";
import http from "node:http";
import { Sha256 } from "@aws-crypto/sha256-js";
import { type KMSClient, ListResourceTagsCommand, TagResourceCommand } from "@aws-sdk/client-kms";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { ACCOUNT_A, KEY_A, type TestServer } from "../helpers.ts";

/** Shared by the KMS suites: fresh key ids, key ARNs, tag shorthands and a raw signed request. */

export function newKeyId(): string {
  return randomUUID();
}

export function keyArn(id: string, account = ACCOUNT_A, region = "us-east-1"): string {
  return `arn:aws:kms:${region}:${account}:key/${id}`;
}

export function tagList(tags: Record<string, string>) {
  return Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}

export function manyTags(n: number, prefix = "k"): Record<string, string> {
  return Object.fromEntries(
    Array.from({ length: n }, (_, i) => [`${prefix}${String(i).padStart(2, "0")}`, `v${i}`]),
  );
}

export async function tagKey(client: KMSClient, keyId: string, tags: Record<string, string>) {
  return client.send(new TagResourceCommand({ KeyId: keyId, Tags: tagList(tags) }));
}

/** Every tag of a key through ListResourceTags (all pages), as an object. */
export async function kmsTagsOf(client: KMSClient, keyId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let marker: string | undefined;
  do {
    const page = await client.send(new ListResourceTagsCommand({ KeyId: keyId, Marker: marker }));
    for (const t of page.Tags ?? []) out[t.TagKey as string] = t.TagValue as string;
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return out;
}

/** Registers keys through the admin API, with a state when given. */
export async function registerKeys(server: TestServer, keys: { arn: string; state?: string }[]) {
  const res = await server.admin("POST", "/admin/v1/resources", { resources: keys });
  if (res.status !== 200)
    throw new Error(`admin registration answered ${res.status}: ${JSON.stringify(res.body)}`);
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read error bodies field by field.
  json(): any;
}

/**
 * A KMS request signed as the SDK signs it, with any body: for what the SDK would never send.
 * `target` without a dot is a TrentService operation.
 */
export async function rawKms(
  server: TestServer,
  target: string,
  body: string | Buffer | object,
  o: { service?: string; key?: typeof KEY_A; region?: string; contentType?: string } = {},
): Promise<RawAnswer> {
  const url = new URL(server.url);
  const bytes = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  const signer = new SignatureV4({
    service: o.service ?? "kms",
    region: o.region ?? "us-east-1",
    credentials: o.key ?? KEY_A,
    sha256: Sha256,
  });
  const request = new HttpRequest({
    method: "POST",
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path: "/",
    headers: {
      host: url.host,
      "content-type": o.contentType ?? "application/x-amz-json-1.1",
      "x-amz-target": target.includes(".") ? target : `TrentService.${target}`,
    },
    body: bytes,
  });
  const signed = await signer.sign(request);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: Number(url.port),
        method: "POST",
        path: "/",
        headers: { ...signed.headers, "content-length": String(bytes.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(bytes);
  });
}
