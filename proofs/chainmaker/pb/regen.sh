#!/bin/sh
# Regenerate chainmaker_pb2.py from chainmaker.proto (protoc from grpcio-tools, a dev-time tool only),
# then mark it generated for ruff and format it as the repository's check wants.
set -e
cd "$(dirname "$0")"
python -m grpc_tools.protoc -I. --python_out=. chainmaker.proto
{ echo "# ruff: noqa"; cat chainmaker_pb2.py; } > chainmaker_pb2.py.tmp && mv chainmaker_pb2.py.tmp chainmaker_pb2.py
ruff format chainmaker_pb2.py
