"""Repository tooling, not part of the installed package: badges, the Colab cell, registry hashes."""
