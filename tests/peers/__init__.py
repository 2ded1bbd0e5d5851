"""Independent Modbus implementations (peers) and plumbing for interoperability tests."""
