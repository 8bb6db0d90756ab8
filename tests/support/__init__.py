"""What the tests share: video makers and readers, servers on loopback, SDK helpers."""
