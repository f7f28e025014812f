"""HTTP/2 with clients nobody here wrote: curl (prior knowledge and TLS/ALPN), nghttp, h2load (many
streams per connection) and Node's built-in http2 module. A missing client skips with its name."""

from __future__ import annotations

import json
import re
from pathlib import Path

from h2_support import need, run_client

from helpers import ServerProcess

NODE_CLIENT = r"""
const http2 = require('http2');
const fs = require('fs');
const [url, ca] = process.argv.slice(2);
const session = http2.connect(url, ca ? {ca: fs.readFileSync(ca)} : {});
session.on('error', (e) => { console.error(e); process.exit(2); });
let pending = 3;
const results = [];
function done() { if (--pending === 0) { console.log(JSON.stringify(results)); session.close(); } }
for (const path of ['/text?msg=one', '/text?msg=two']) {
  const req = session.request({':path': path});
  let body = '';
  let status = 0;
  req.on('response', (h) => { status = h[':status']; });
  req.setEncoding('utf8');
  req.on('data', (d) => { body += d; });
  req.on('end', () => { results.push({path, status, body}); done(); });
  req.end();
}
const post = session.request({':path': '/body?echo=1', ':method': 'POST'});
let echoed = '';
post.setEncoding('utf8');
post.on('data', (d) => { echoed += d; });
post.on('end', () => { results.push({path: 'post', status: 200, body: echoed}); done(); });
post.end('posted by node');
"""


def test_curl_prior_knowledge_get_and_post(server: ServerProcess) -> None:
    curl = need("curl")
    got = run_client([curl, "-sS", "--http2-prior-knowledge", "--max-time", "10",
               "-w", "\\n%{http_version}", f"{server.url}/text?msg=curl"])
    assert got.stdout == "curl\n2"
    posted = run_client([curl, "-sS", "--http2-prior-knowledge", "--max-time", "10",
                  "--data-binary", "posted by curl", f"{server.url}/body?echo=1"])
    assert posted.stdout == "posted by curl"
    big = "x" * 300_000
    out = run_client([curl, "-sS", "--http2-prior-knowledge", "--max-time", "20",
                      "--data-binary", "@-", f"{server.url}/body"], input=big)
    assert json.loads(out.stdout)["length"] == len(big)


def test_curl_over_tls(tls_server: ServerProcess, ca_file: str) -> None:
    curl = need("curl")
    out = run_client([curl, "-sS", "--http2", "--cacert", ca_file, "--max-time", "10",
               "-w", "\\n%{http_version}", f"https://localhost:{tls_server.port}/scope"])
    body, _, version = out.stdout.rpartition("\n")
    assert version == "2"
    assert json.loads(body)["scheme"] == "https"


def test_nghttp_concurrent_streams(server: ServerProcess) -> None:
    nghttp = need("nghttp")
    out = run_client([nghttp, "-n", "-s", "-m", "20", "-t", "10", f"{server.url}/text?msg=n"])
    # -s prints one line per response stream with its status.
    statuses = re.findall(r"^\s+\d+\s+\S+\s+\S+\s+\S+\s+(\d{3})\s", out.stdout, re.MULTILINE)
    assert statuses.count("200") == 20, out.stdout


def test_nghttp_upgrade(server: ServerProcess) -> None:
    nghttp = need("nghttp")
    out = run_client([nghttp, "-u", "-t", "10", f"{server.url}/text?msg=upgraded"])
    assert out.stdout == "upgraded"


def test_h2load_many_streams_per_connection(server: ServerProcess) -> None:
    h2load = need("h2load")
    out = run_client([h2load, "-n", "2000", "-c", "4", "-m", "10", f"{server.url}/text?msg=load"])
    assert re.search(r"2000 total, 2000 started, 2000 done, 2000 succeeded", out.stdout), out.stdout
    assert "status codes: 2000 2xx" in out.stdout


def test_h2load_over_tls(tls_server: ServerProcess) -> None:
    h2load = need("h2load")
    out = run_client([h2load, "-n", "500", "-c", "2", "-m", "10",
               f"https://localhost:{tls_server.port}/text?msg=tls"])
    assert "Application protocol: h2" in out.stdout
    assert "500 succeeded" in out.stdout


def test_node_http2_client(server: ServerProcess, tls_server: ServerProcess, ca_file: str,
                           tmp_path: Path) -> None:
    node = need("node")
    script = tmp_path / "client.js"
    script.write_text(NODE_CLIENT)
    for url, ca in ((server.url, ""), (f"https://localhost:{tls_server.port}", ca_file)):
        out = run_client([node, str(script), url, ca])
        results = {r["path"]: r for r in json.loads(out.stdout)}
        assert results["/text?msg=one"] == {"path": "/text?msg=one", "status": 200, "body": "one"}
        assert results["/text?msg=two"]["body"] == "two"
        assert results["post"]["body"] == "posted by node"
