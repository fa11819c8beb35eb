"""A local Spark Connect server for the tests, as a cluster would expose one: a Spark session
in its own process with Spark Connect's plugin, listening on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

_SERVER = """
import sys
from pyspark.sql import SparkSession

port = sys.argv[1]
session = (
    SparkSession.builder.master("local[2]").appName("valuegap-tests-connect")
    .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
    .config("spark.connect.grpc.binding.address", "127.0.0.1")
    .config("spark.connect.grpc.binding.port", port)
    .config("spark.ui.enabled", "false")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.sql.shuffle.partitions", "2")
    .config("spark.driver.memory", "1g")
    .getOrCreate()
)
print("ready", flush=True)
sys.stdin.read()  # until the tests close it
session.stop()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def connect_server(timeout: float = 180) -> Iterator[str]:
    """Start a Spark Connect server; yield its address (sc://127.0.0.1:PORT); stop it."""
    port = free_port()
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    env.pop("SPARK_CONNECT_AUTHENTICATE_TOKEN", None)
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + timeout
        line = server.stdout.readline()
        if line.strip() != "ready" or time.monotonic() > deadline:
            raise RuntimeError("the Spark Connect server did not start")
        yield f"sc://127.0.0.1:{port}"
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
