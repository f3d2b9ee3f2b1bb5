"""The deployment check: the image, the compose stack, and orders through it with crashes."""
