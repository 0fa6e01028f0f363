"""A release signing key for the loopback cluster and the tests: a cosign key pair the harness
makes, which `mise run push` signs with (COSIGN_KEY) and which Flux's OCIRepository, the node's
image verifier and `cosign verify` check against. No transparency log takes part: the key is
the trust, as a platform that signs with its own key has it (site/docs/supply-chain.md)."""

import base64
import json
import os
import pathlib
import subprocess

from harness.processes import StepFailed, tool


class SigningKey:
    def __init__(self, folder: pathlib.Path, name: str = "release-signing"):
        """Makes the key pair `name`.key and `name`.pub in `folder`, without a password."""
        folder.mkdir(parents=True, exist_ok=True)
        self.key = folder / f"{name}.key"
        self.public = folder / f"{name}.pub"
        if not self.key.exists():
            prefix = folder / name
            cosign("generate-key-pair", f"--output-key-prefix={prefix}", env=self.env(), cwd=folder)

    def env(self) -> dict[str, str]:
        """The environment that makes `mise run push` sign with this key."""
        return {"COSIGN_KEY": str(self.key), "COSIGN_PASSWORD": ""}

    def sign(self, ref: str):
        """Signs `ref` (repository@digest) as push signs, on a plain-HTTP registry."""
        cosign(
            "sign",
            "--yes",
            "--allow-http-registry",
            f"--key={self.key}",
            "--use-signing-config=false",
            "--tlog-upload=false",
            ref,
            env=self.env(),
        )

    def verify(self, ref: str) -> list[dict]:
        """`cosign verify` of `ref` against the public key: the verified signatures' payloads."""
        return json.loads(cosign("verify", *self.checks(), ref))

    def attested_sbom(self, ref: str) -> dict:
        """`cosign verify-attestation` of `ref`'s CycloneDX attestation against the public key:
        the SBOM it carries (the in-toto statement's predicate)."""
        output = cosign("verify-attestation", *self.checks(), "--type", "cyclonedx", ref)
        envelope = json.loads(output.splitlines()[0])
        return json.loads(base64.b64decode(envelope["payload"]))["predicate"]

    def checks(self) -> list[str]:
        """How a verifier checks against this key, on a plain-HTTP registry: the key is the
        trust, with no transparency log."""
        return ["--allow-http-registry", f"--key={self.public}", "--insecure-ignore-tlog"]


def cosign(*args: str, env: dict | None = None, cwd: pathlib.Path | None = None) -> str:
    """cosign from the tool cache; its stdout. A refusal raises StepFailed with what it said."""
    result = subprocess.run(
        [tool("cosign"), *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd
    )
    if result.returncode != 0:
        raise StepFailed(f"cosign {args[0]} {args[-1]}: {result.stderr.strip()}")
    return result.stdout
