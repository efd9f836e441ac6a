"""Which environment variable names a deployment's `env` may not set, and why.

A deployment's `env` reaches every process of the pod, the pod agent's own included: the agent
runs git and pip, Python, and the system's loader with it. Variables that steer those tools can
turn a harmless-looking value into a command (`GIT_CONFIG_KEY_0=core.fsmonitor` runs a program
in every `git` call, `LD_PRELOAD` loads a library into every process, `PYTHONSTARTUP`,
`BASH_ENV` run code) or send the agent's downloads, with their tokens, somewhere else (proxies,
certificate stores, `HF_ENDPOINT`). What the agent installs is described by the manifest, which
is validated; nothing else may steer it. So these names are refused at the API with a 422 that
names the variable (the agent also runs git and pip with a clean environment).

Names are compared case-insensitively: `http_proxy` is read in lower case by most tools, and a
lower-case `ld_preload` is refused too rather than being a trap for whoever reads it later.

Allowed on purpose: `HF_HUB_*` and `HF_HOME` (they tune the `huggingface_hub` library that
custom nodes use inside ComfyUI; the agent's downloader reads none of them), `TMPDIR`, and any
other application setting.
"""

from __future__ import annotations

# Set by the server itself.
RESERVED_PREFIXES = ("HANGAR_", "RUNPOD_")
# Tokens the server sets for the agent: give them as `hf_token` / `civitai_token` instead.
TOKEN_NAMES = ("HF_TOKEN", "CIVITAI_TOKEN", "HUGGING_FACE_HUB_TOKEN")

# Prefixes of variables that steer the tools the agent runs, with what they steer.
STEERING_PREFIXES: dict[str, str] = {
    "GIT_": "git (config, hooks, ssh and proxy commands)",
    "PIP_": "pip (index, options, trusted hosts)",
    "UV_": "uv (index, options), which custom nodes and ComfyUI-Manager may install with",
    "PYTHON": "the Python interpreter (module path, start-up code)",
    "LD_": "the dynamic loader (libraries preloaded into every process)",
    "OPENSSL_": "OpenSSL (configuration that loads engines and trust settings)",
    "BASH_FUNC_": "bash (functions exported into every shell)",
}
# Single names, with what they steer.
STEERING_NAMES: dict[str, str] = {
    "PATH": "which git, pip and python run",
    "HOME": "where git and pip read their configuration",
    "XDG_CONFIG_HOME": "where git and pip read their configuration",
    "VIRTUAL_ENV": "which environment pip and uv install into",
    "BASH_ENV": "code that every non-interactive bash runs first",
    "GCONV_PATH": "modules the C library loads for character conversion",
    "SSL_CERT_FILE": "which certificates the agent's downloads trust",
    "SSL_CERT_DIR": "which certificates the agent's downloads trust",
    "REQUESTS_CA_BUNDLE": "which certificates pip's downloads trust",
    "CURL_CA_BUNDLE": "which certificates git's downloads trust",
    "HTTP_PROXY": "where the agent's downloads (and their tokens) are sent",
    "HTTPS_PROXY": "where the agent's downloads (and their tokens) are sent",
    "ALL_PROXY": "where the agent's downloads (and their tokens) are sent",
    "NO_PROXY": "which hosts bypass a proxy",
    "FTP_PROXY": "where downloads are sent",
    "HF_ENDPOINT": "where Hugging Face downloads, and the Hugging Face token, are sent "
    "(the server's HANGAR_HF_ENDPOINT sets it for the agent)",
}


def env_name_refusal(name: str) -> str | None:
    """Why `name` may not be set in a deployment's env, or None when it may."""
    upper = name.upper()
    if upper in TOKEN_NAMES:
        return f"{name} is reserved: give the token as hf_token or civitai_token"
    if upper.startswith(RESERVED_PREFIXES):
        return f"{name} is reserved: HANGAR_* and RUNPOD_* are set by ComfyHangar"
    steers = STEERING_NAMES.get(upper)
    if steers is None:
        steers = next((v for k, v in STEERING_PREFIXES.items() if upper.startswith(k)), None)
    if steers is not None:
        return (
            f"{name} is not allowed: it steers {steers}; the manifest says what the pod "
            "installs (docs/api.md lists the refused names)"
        )
    return None
