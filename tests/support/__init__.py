"""What the tests share: databases, factories, the SMTP recorder, Chromium, commands."""
