"""Sealing a backup: gzip, then AES-256-GCM under a key from the environment.

A sealed file is the line `KAHOKU-DX-BACKUP`, one line of JSON (the manifest: format
version, key id, nonce, what the backup holds), then the ciphertext. The manifest is the
cipher's associated data, so changing one byte anywhere — manifest, ciphertext or tag —
makes `open_sealed` refuse the file; nobody without the key can read it or make one that
opens. Framework-free: the commands pass the keys in.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"KAHOKU-DX-BACKUP\n"
FORMAT_VERSION = 1
CIPHER = "AES-256-GCM"
# The manifest line is small; anything longer is not one of ours.
_MAX_MANIFEST = 1_000_000


class SealError(ValueError):
    """The file is not a sealed backup, was changed, or no key given opens it."""


@dataclass(frozen=True)
class BackupKey:
    secret: bytes

    @property
    def key_id(self) -> str:
        """Names the key in the manifest without revealing it."""
        return hmac.new(self.secret, b"kahoku-dx backup key id", hashlib.sha256).hexdigest()[:16]


def parse_key(text: str) -> BackupKey:
    """A key is 32 random bytes in URL-safe base64 (44 characters), as `new_key` prints."""
    try:
        secret = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        secret = b""
    if len(secret) != 32:
        raise ValueError(
            "バックアップの鍵は 32 バイトを URL-safe base64 で書いた 44 文字です"
            " (`manage.py make_backup --new-key` で作れます)。"
        )
    return BackupKey(secret)


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def seal(plaintext: bytes, *, key: BackupKey, manifest: dict[str, Any]) -> bytes:
    nonce = os.urandom(12)
    header = {
        **manifest,
        "format": FORMAT_VERSION,
        "cipher": CIPHER,
        "compression": "gzip",
        "key_id": key.key_id,
        "nonce": base64.b64encode(nonce).decode("ascii"),
    }
    head = MAGIC + json.dumps(header, sort_keys=True, ensure_ascii=True).encode("ascii") + b"\n"
    body = AESGCM(key.secret).encrypt(nonce, gzip.compress(plaintext, mtime=0), head)
    return head + body


def is_sealed(data: bytes) -> bool:
    return data.startswith(MAGIC)


def read_manifest(data: bytes) -> tuple[dict[str, Any], bytes, bytes]:
    """(manifest, header bytes, ciphertext); refuses what is not a sealed backup."""
    if not is_sealed(data):
        raise SealError("封印されたバックアップではありません (先頭が KAHOKU-DX-BACKUP ではない)。")
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + _MAX_MANIFEST)
    if end < 0:
        raise SealError("バックアップの見出し (マニフェスト) が壊れています。")
    try:
        manifest = json.loads(data[len(MAGIC) : end])
    except ValueError:
        raise SealError("バックアップの見出し (マニフェスト) が壊れています。") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise SealError("この版のポータルでは読めない形式のバックアップです。")
    if manifest.get("cipher") != CIPHER:
        raise SealError(f"未知の暗号方式です: {manifest.get('cipher')!r}")
    return manifest, data[: end + 1], data[end + 1 :]


def open_sealed(data: bytes, *, keys: list[BackupKey]) -> tuple[dict[str, Any], bytes]:
    """(manifest, plaintext). The key whose id the manifest names must be among `keys`."""
    manifest, head, body = read_manifest(data)
    key_id = manifest.get("key_id")
    key = next((k for k in keys if k.key_id == key_id), None)
    if key is None:
        raise SealError(
            f"このバックアップは鍵 ID {key_id} の鍵で暗号化されていますが、"
            "BACKUP_ENCRYPTION_KEY にその鍵がありません。"
        )
    try:
        nonce = base64.b64decode(manifest["nonce"], validate=True)
        compressed = AESGCM(key.secret).decrypt(nonce, body, head)
    except (InvalidTag, KeyError, ValueError, binascii.Error):
        raise SealError(
            "バックアップが改ざんされているか壊れています (認証タグが一致しません)。"
        ) from None
    try:
        return manifest, gzip.decompress(compressed)
    except (OSError, EOFError):  # authenticated, so only a bug of ours gets here
        raise SealError("バックアップの中身を展開できません。") from None
