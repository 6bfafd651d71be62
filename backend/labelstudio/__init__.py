"""Label Studio's side: what it sends us (payloads), the one client we call it with (over
label-studio-sdk), and a local Label Studio for tests and the demo.

No module outside this package builds Label Studio URLs or auth headers. May import only
the base (errors, defaults, settings).
"""
