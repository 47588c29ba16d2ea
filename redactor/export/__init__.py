"""Redacted exports for auditors: recordings in, masked MP4 + signed manifest out.

How an export goes (redactor.export.service.ExportService; gRPC: redactor.server.exports):

1. Request: camera_id with start and end, or one recording file; recipient,
   officer, purpose and legal basis are required (MissingField names the one
   missing); policy (empty = `export.default_policy`); expiry_days (0 = 30).
   Every request, approval and refusal is a ledger row (redactor.ledger).
2. Source (redactor.export.archive): `<archive_root>/<camera_id>/<YYYYmmddTHHMMSS>.<ext>`,
   one file per recording named by its UTC start. A range is served from the one
   recording that covers it (a range across two recordings is refused for now).
   Anything that resolves outside the root is INVALID_ARGUMENT.
3. Pixels, in segments cut at keyframes (redactor.export.segments, `export.segment_s`)
   whose tasks (redactor.export.tasks) redactor.export.coordinator runs on
   threads or Dask workers (redactor.export.executor):
   each segment is detected per `export.plan`: the export policy's profile
   on every frame (exhaustive), or sweeps and moving regions (fast,
   redactor.export.fast); the whole clip's detections are then planned once
   on the coordinator: followed per object (redactor.export.objects; or, with
   `export.exhaustive.masks = "held"`, tracked forward and backward and held,
   redactor.track.track_clip), and
   masked per policy (redactor.export.redact); each segment is masked, marked "EXPORT <id> FOR
   <recipient>" and encoded to H.264 on its own; the segments are joined
   without re-encoding into one MP4 with the source's pts and time base, no
   audio (docs/cluster.md). A frame whose detector failed is masked entirely
   and listed in the manifest.
   Subject access: the one face inside the request's box at its timestamp stays
   visible along its track while the track is consistent; everything else is masked.
4. Manifest (redactor.export.manifest): sources and SHA-256, output SHA-256,
   frame count and timing, policy, detectors and model hashes, masks per frame,
   requester fields, expiry; signed with the service's Ed25519 key
   (redactor.export.keys). `redactor-audit verify OUT.mp4 MANIFEST.json`.
5. Expiry: an expiry thread deletes expired exports and records expiry and deletion.
"""
