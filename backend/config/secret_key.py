"""Which ``SECRET_KEY`` a non-production process signs with.

The key signs client tokens, stream tokens, sessions and email links, so a key anyone can
read (a default in the source) lets anyone forge them. With services configured
(``DATABASE_URL`` or ``REDIS_URL``) several processes, often on several machines, must
share one key: it has to be set, and start-up fails naming it when it is not. The
embedded default (one machine, no services) needs no setting: it generates a random key
once and keeps it under ``DATA_DIR``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from backend.config.env import AppSettings, SettingsError

KEY_FILE = "secret_key"
SERVICE_SETTINGS = ("DATABASE_URL", "REDIS_URL")


def local_secret_key(env: AppSettings) -> str:
    """``SECRET_KEY`` if set; refused when services are configured without one; else the
    embedded default's generated key."""
    if env.SECRET_KEY:
        return env.SECRET_KEY
    configured = [name for name in SERVICE_SETTINGS if getattr(env, name)]
    if configured:
        raise SettingsError(
            f"SECRET_KEY is not set, but {' and '.join(configured)} "
            f"{'is' if len(configured) == 1 else 'are'}: processes sharing a database or "
            "Redis must sign tokens with a secret of their own, never a built-in one (anyone "
            "could forge client and stream tokens with it). Set SECRET_KEY to a long random "
            "value, the same for every web and worker process, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    return embedded_secret_key(env.DATA_DIR)


def embedded_secret_key(data_dir: Path) -> str:
    """The key kept in ``DATA_DIR/secret_key``, made (random, owner-only) on first use.

    Processes starting together agree on one key: each writes a candidate to a temporary
    file and hard-links it into place, which succeeds for exactly one of them.
    """
    path = data_dir / KEY_FILE
    existing = _read(path)
    if existing is not None:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    candidate = data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    _write_private(candidate, secrets.token_urlsafe(50))
    try:
        os.link(candidate, path)
    except FileExistsError:
        pass  # another process won the race: its key is the key
    except OSError:
        # No hard links on this filesystem: exclusive create is the next best thing.
        try:
            _write_private(path, candidate.read_text())
        except FileExistsError:
            pass
    finally:
        candidate.unlink(missing_ok=True)
    found = _read(path)
    if found is None:
        raise SettingsError(f"{path} is empty: delete it (a new key is made) or set SECRET_KEY.")
    return found


def _read(path: Path) -> str | None:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    return text or None


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
