"""A small local stand-in for the Hugging Face Hub, for tests only.

The real Hub cannot be reached from this machine and no installable server accepts a push,
so the Hub tests run the real `huggingface_hub` and `datasets` clients against this server:
repositories live in memory, bound to 127.0.0.1 on a free port, and the server stops when
the context manager exits. It implements what those clients call to create a dataset
repository, upload (preupload, git-LFS batch and PUT, commit), list and read files back
(repository info, tree and paths-info listings, resolve with Range), and validate a card's
YAML. It checks that requests carry a bearer token, but not which one. Anything else
answers 404 and is recorded in `unhandled`, so a test can show what a client needed.

Clients must see `HF_ENDPOINT` (the server's URL), a dummy `HF_TOKEN`,
`HF_HUB_DISABLE_XET=1` (the Xet upload path needs a storage service) and a temporary
`HF_HOME` before `huggingface_hub` or `datasets` are imported: run them in a child
process with `environment()`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

LFS_SUFFIXES = (".parquet", ".png", ".arrow", ".jpg", ".jsonl")


@dataclass
class Repo:
    repo_id: str
    repo_type: str
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    lfs: set[str] = field(default_factory=set)
    commits: list[str] = field(default_factory=list)

    @property
    def sha(self) -> str:
        return self.commits[-1] if self.commits else "0" * 40


def _git_blob_oid(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


class HubState:
    def __init__(self) -> None:
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}
        self.unhandled: list[str] = []
        self.lock = threading.Lock()

    def entry(self, repo: Repo, path: str) -> dict[str, Any]:
        content = repo.files[path]
        item: dict[str, Any] = {
            "type": "file",
            "path": path,
            "size": len(content),
            "oid": _git_blob_oid(content),
        }
        if path in repo.lfs:
            item["lfs"] = {
                "oid": hashlib.sha256(content).hexdigest(),
                "size": len(content),
                "pointerSize": 134,
            }
        return item

    def listing(self, repo: Repo, prefix: str, recursive: bool) -> list[dict[str, Any]]:
        prefix = prefix.strip("/")
        base = f"{prefix}/" if prefix else ""
        entries: dict[str, dict[str, Any]] = {}
        for path in sorted(repo.files):
            if not path.startswith(base):
                continue
            rest = path[len(base) :]
            if recursive or "/" not in rest:
                entries[path] = self.entry(repo, path)
            parts = rest.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                if not recursive and depth > 1:
                    break
                directory = base + "/".join(parts[:depth])
                entries.setdefault(
                    directory,
                    {"type": "directory", "path": directory, "oid": "0" * 40},
                )
        return list(entries.values())


_REPO_PATH = r"(?P<type>datasets|models|spaces)/(?P<repo>[^/]+/[^/]+)"


class _Handler(BaseHTTPRequestHandler):
    state: HubState
    server_version = "LocalHub/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- helpers -------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _send(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> None:
        data = raw if raw is not None else json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if raw is None:
            self.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _not_found(self, code: str = "EntryNotFound") -> None:
        self._send(404, {"error": code}, {"X-Error-Code": code, "X-Error-Message": code})

    def _authorized(self) -> bool:
        if self.headers.get("Authorization", "").startswith("Bearer "):
            return True
        self._send(
            401, {"error": "Invalid credentials"}, {"X-Error-Message": "Invalid credentials"}
        )
        return False

    def _repo(self, match: re.Match[str]) -> Repo | None:
        """The repository the URL names (answering 404 when there is none)."""
        repo_type = (match["type"] or "models").rstrip("s")  # model URLs have no prefix
        repo = self.state.repos.get((repo_type, unquote(match["repo"])))
        if repo is None:
            self._not_found("RepoNotFound")
        return repo

    def _unhandled(self) -> None:
        self.state.unhandled.append(f"{self.command} {self.path}")
        self._not_found("NotImplemented")

    # -- routing -------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._route()

    def do_HEAD(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def do_PUT(self) -> None:
        self._route()

    def _route(self) -> None:
        url = urlsplit(self.path)
        path, query = unquote(url.path), parse_qs(url.query)
        with self.state.lock:
            for pattern, method, handler in _ROUTES:
                match = re.fullmatch(pattern, path)
                if match and self.command in method:
                    handler(self, match, query)
                    return
            self._unhandled()

    # -- endpoints -----------------------------------------------------------------------
    def whoami(self, match: re.Match[str], query: dict[str, list[str]]) -> None:
        if self._authorized():
            self._send(200, {"type": "user", "name": "local-tester", "orgs": [],
                             "auth": {"accessToken": {"role": "write"}}})  # fmt: skip

    def create_repo(self, match: re.Match[str], query: dict[str, list[str]]) -> None:
        if not self._authorized():
            return
        payload = json.loads(self._body() or b"{}")
        repo_type = payload.get("type") or "model"
        name = payload["name"]
        repo_id = f"{payload['organization']}/{name}" if payload.get("organization") else name
        key = (repo_type, repo_id)
        url = f"http://{self.headers['Host']}/{repo_type}s/{repo_id}"
        if key in self.state.repos:
            self._send(409, {"error": "You already created this repo", "url": url})
            return
        # Like the Hub, a new repository starts with one commit holding `.gitattributes`.
        private = bool(payload.get("private")) or payload.get("visibility") == "private"
        self.state.repos[key] = Repo(
            repo_id, repo_type, private,
            files={".gitattributes": b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"},
            commits=[hashlib.sha1(repo_id.encode()).hexdigest()],
        )  # fmt: skip
        self._send(200, {"url": url, "name": repo_id, "id": repo_id})

    def repo_info(self, match: re.Match[str], query: dict[str, list[str]]) -> None:
        repo = self._repo(match)
        if repo is None:
            return
        self._send(200, {
            "id": repo.repo_id, "_id": repo.repo_id, "sha": repo.sha, "private": repo.private,
            "siblings": [{"rfilename": path} for path in sorted(repo.files)],
            "lastModified": "2026-01-01T00:00:00.000Z", "tags": [], "downloads": 0,
            "likes": 0, "disabled": False, "gated": False,
        })  # fmt: skip

    def preupload(self, match: re.Match[str], query: dict[str, list[str]]) -> None:
        if not self._authorized():
            return
        repo = self._repo(match)
        if repo is None:
            return
        files = json.loads(self._body())["files"]
        self._send(200, {"files": [
            {"path": item["path"], "shouldIgnore": False,
             "uploadMode": "lfs" if item["path"].endswith(LFS_SUFFIXES) else "regular",
             "oid": _git_blob_oid(repo.files[item["path"]]) if item["path"] in repo.files
             else None}
            for item in files
        ]})  # fmt: skip

    def lfs_batch(self, match: re.Match[str], query: dict[str, list[str]]) -> None:
        if not self._authorized():
            return
        payload = json.loads(self._body())
        host = self.headers["Host"]
        objects = []
        for item in payload["objects"]:
            entry: dict[str, Any] = {"oid": item["oid"], "size": item["size"]}
            if item["oid"] not in self.state.lfs_objects:
                entry["actions"] = {"upload": {"href": f"http://{host}/lfs-upload/{item['oid']}"}}
            objects.append(entry)
        self._send(200, {"transfer": "basic", "objects": objects},
                   {"Content-Type": "application/vnd.git-lfs+json"})  # fmt: skip

    def lfs_upload(self, match: re.Match[str], query: dict[str, list[str]]) -> None:
        content = self._body()
        if hashlib.sha256(content).hexdigest() != match["oid"]:
            self._send(400, {"error": "sha256 mismatch"})
            return
        self.state.lfs_objects[match["oid"]] = content
        self._send(200, {})

    def commit(self, match: re.Match[str], query: dict[str, list[str]]) -> None:
        if not self._authorized():
            return
        repo = self._repo(match)
        if repo is None:
            return
        files, lfs, deleted = dict(repo.files), set(repo.lfs), []
        for line in self._body().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "file":
                files[value["path"]] = base64.b64decode(value["content"])
                lfs.discard(value["path"])
            elif key == "lfsFile":
                if value["oid"] not in self.state.lfs_objects:
                    self._send(422, {"error": f"LFS object {value['oid']} was not uploaded"})
                    return
                files[value["path"]] = self.state.lfs_objects[value["oid"]]
                lfs.add(value["path"])
            elif key == "deletedFile":
                deleted.append(value["path"])
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                deleted += [path for path in files if path.startswith(prefix)]
            elif key != "header":
                self._send(400, {"error": f"unsupported commit operation {key}"})
                return
        for path in deleted:
            files.pop(path, None)
            lfs.discard(path)
        repo.files, repo.lfs = files, lfs
        repo.commits.append(
            hashlib.sha1(f"{time.time_ns()}{len(repo.commits)}".encode()).hexdigest()
        )
        host = self.headers["Host"]
        self._send(200, {"commitUrl": f"http://{host}/{match['type']}/{repo.repo_id}/commit/{repo.sha}",
                         "commitOid": repo.sha, "pullRequestUrl": None})  # fmt: skip

    def tree(self, match: re.Match[str], query: dict[str, list[str]]) -> None:
        repo = self._repo(match)
        if repo is None:
            return
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        prefix = match["path"] or ""
        if prefix and prefix in repo.files:
            self._send(200, [self.state.entry(repo, prefix)])
            return
        listing = self.state.listing(repo, prefix, recursive)
        if prefix and not listing:
            self._not_found()
            return
        self._send(200, listing)

    def paths_info(self, match: re.Match[str], query: dict[str, list[str]]) -> None:
        repo = self._repo(match)
        if repo is None:
            return
        body = self._body()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            paths = json.loads(body).get("paths", [])
        else:
            paths = parse_qs(body.decode()).get("paths", [])
        result = []
        for path in paths:
            if path in repo.files:
                result.append(self.state.entry(repo, path))
            elif any(name.startswith(path.rstrip("/") + "/") for name in repo.files):
                result.append({"type": "directory", "path": path, "oid": "0" * 40})
        self._send(200, result)

    def resolve(self, match: re.Match[str], query: dict[str, list[str]]) -> None:
        repo = self._repo(match)
        if repo is None:
            return
        path = match["path"]
        if path not in repo.files:
            self._not_found()
            return
        content = repo.files[path]
        etag = hashlib.sha256(content).hexdigest() if path in repo.lfs else _git_blob_oid(content)
        headers = {"ETag": f'"{etag}"', "X-Repo-Commit": repo.sha, "Accept-Ranges": "bytes",
                   "Content-Type": "application/octet-stream"}  # fmt: skip
        if path in repo.lfs:
            headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(content))})
        ranged = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if ranged:
            start = int(ranged[1]) if ranged[1] else max(len(content) - int(ranged[2]), 0)
            end = int(ranged[2]) if ranged[1] and ranged[2] else len(content) - 1
            end = min(end, len(content) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(content)}"
            self._send(206, headers=headers, raw=content[start : end + 1])
            return
        self._send(200, headers=headers, raw=content)

    def validate_yaml(self, match: re.Match[str], query: dict[str, list[str]]) -> None:
        self._body()
        self._send(200, {"errors": [], "warnings": []})


_ROUTES: list[tuple[str, tuple[str, ...], Any]] = [
    (r"/api/whoami-v2", ("GET",), _Handler.whoami),
    (r"/api/repos/create", ("POST",), _Handler.create_repo),
    (r"/api/validate-yaml", ("POST",), _Handler.validate_yaml),
    (rf"/api/{_REPO_PATH}(?:/revision/[^/]+)?", ("GET",), _Handler.repo_info),
    (rf"/api/{_REPO_PATH}/preupload/[^/]+", ("POST",), _Handler.preupload),
    (rf"/api/{_REPO_PATH}/commit/[^/]+", ("POST",), _Handler.commit),
    (rf"/api/{_REPO_PATH}/tree/[^/]+(?:/(?P<path>.*))?", ("GET",), _Handler.tree),
    (rf"/api/{_REPO_PATH}/paths-info/[^/]+", ("POST",), _Handler.paths_info),
    (
        r"/(?:(?P<type>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+?)(?:\.git)?/info/lfs/objects/batch",
        ("POST",),
        _Handler.lfs_batch,
    ),
    (r"/lfs-upload/(?P<oid>[0-9a-f]{64})", ("PUT",), _Handler.lfs_upload),
    (
        r"/(?:(?P<type>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)/resolve/[^/]+/(?P<path>.+)",
        ("GET", "HEAD"),
        _Handler.resolve,
    ),
]


@contextlib.contextmanager
def local_hub() -> Iterator[tuple[str, HubState]]:
    """Serves a fresh in-memory Hub on 127.0.0.1 (a free port); yields its URL and state."""
    state = HubState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def environment(url: str, home: str) -> dict[str, str]:
    """Environment variables pointing `huggingface_hub` and `datasets` at the local Hub."""
    return {
        "HF_ENDPOINT": url,
        "HF_TOKEN": "hf_local_dummy_token",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HOME": home,
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_OFFLINE": "0",
        "HF_DATASETS_OFFLINE": "0",
    }
