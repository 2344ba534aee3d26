"""Generated protobuf code for ChainMaker's messages (see chainmaker.proto)."""
