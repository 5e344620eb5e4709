"""Voice: recorded clips first, then Mandarin TTS (espeak-ng) or, where switched on, the labelled
synthetic Tibetan voice; never the wrong language. Import the module you need (`devices.voice.voice`,
`.clips`, `.tibetan`, `.tts`): the package itself loads nothing."""
