"""How staff passwords are stored.

Django's default, PBKDF2-SHA256 with 1,000,000 iterations, costs about 0.45 s of CPU per
login on the city's 2-core server: fifty staff logging in at 8:30 keep both cores busy for
over ten seconds, and every page waits behind them. Argon2id with the OWASP Password
Storage Cheat Sheet's first configuration (19 MiB of memory, 2 passes, 1 lane) is
memory-hard, so it resists GPU guessing better at a fraction of the CPU (about 30 ms).

Hashes made by the older hashers listed after it in ``PASSWORD_HASHERS`` still verify,
and Django re-hashes them with this one at the user's next successful login.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OwaspArgon2idPasswordHasher(Argon2PasswordHasher):
    """Argon2id, m=19456 KiB, t=2, p=1 (OWASP). Same ``argon2`` algorithm name as Django's,
    so a change of these figures re-hashes at the next login (``must_update``)."""

    time_cost = 2
    memory_cost = 19456
    parallelism = 1
