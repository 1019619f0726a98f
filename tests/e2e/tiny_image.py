"""Build a tiny OCI image layout (one gzip layer holding ``hello.txt``) with the standard library.

The result is deterministic (fixed mtimes, no gzip timestamp), so its manifest digest is stable
and can be compared with what the registry reports after a push.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclasses.dataclass(frozen=True)
class TinyImage:
    """Where the layout is and what it holds."""

    layout: Path
    tag: str
    manifest_digest: str
    config_digest: str
    layer_digest: str

    @property
    def ref(self) -> str:
        """The skopeo transport reference, ``oci:<layout>:<tag>``."""
        return f"oci:{self.layout}:{self.tag}"


def _blob(blobs: Path, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (blobs / digest.removeprefix("sha256:")).write_bytes(data)
    return digest


def _layer(text: bytes) -> tuple[bytes, bytes]:
    """(gzip layer, uncompressed tar)."""
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(text)
        info.mode = 0o644
        info.mtime = 0
        tar.addfile(info, io.BytesIO(text))
    raw = tar_buf.getvalue()
    return gzip.compress(raw, mtime=0), raw


def build(layout: Path, tag: str = "v1", text: bytes = b"hello from the e2e test\n") -> TinyImage:
    """Write an OCI layout at ``layout`` with one image tagged ``tag``."""
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))

    gz, raw = _layer(text)
    layer_digest = _blob(blobs, gz)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {
                "type": "layers",
                "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()],
            },
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    config_digest = _blob(blobs, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": len(gz)}],
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    manifest_digest = _blob(blobs, manifest)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": manifest_digest,
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    return TinyImage(layout, tag, manifest_digest, config_digest, layer_digest)
