/**
 * The STAND-IN vendors' server in a boot test's network: `node standinServer.js <webRoot> <address> <port>`.
 * /apt/... is the stand-in apt repository; /npm/<name> the stand-in registry's documents, /npm/-/<file> its tarballs
 * (also at the registry's own path of an unscoped package's tarball, /npm/<name>/-/<file>, where npm's is fetched).
 */
import { createReadStream, existsSync, readFileSync, statSync } from "fs";
import { createServer } from "http";
import { join, normalize } from "path";

const [webRoot, address, port] = process.argv.slice(2);
const base = `http://${address}:${port}/npm/-`;

createServer((req, res) => {
  const url = decodeURIComponent((req.url ?? "/").split("?")[0]);
  const send = (path: string, type: string) => {
    if (!existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404).end("not found\n");
      return;
    }
    res.writeHead(200, { "content-type": type });
    createReadStream(path).pipe(res);
  };
  if (url.startsWith("/npm/-/"))
    return send(join(webRoot, "npm", "tarballs", normalize(url.slice("/npm/-/".length))), "application/octet-stream");
  const tarball = /^\/npm\/[^/@]+\/-\/([^/]+\.tgz)$/.exec(url);
  if (tarball) return send(join(webRoot, "npm", "tarballs", normalize(tarball[1])), "application/octet-stream");
  if (url.startsWith("/npm/")) {
    const name = url.slice("/npm/".length).replace("/", "%2f");
    const path = join(webRoot, "npm", "packuments", `${normalize(name)}.json`);
    if (!existsSync(path)) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(readFileSync(path, "utf8").replace(/TARBALL_BASE/g, base));
    return;
  }
  send(join(webRoot, normalize(url)), "application/octet-stream");
}).listen(Number(port), address);
