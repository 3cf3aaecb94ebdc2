#!/bin/sh
# One-shot MinIO setup for Colophon, run by the `minio-init` compose service with the MinIO
# root credentials. Safe to run again: every step is idempotent.
#   1. creates the pipeline buckets (workers cannot: their users lack s3:CreateBucket);
#   2. installs the least-privilege policies from $COLOPHON_POLICY_DIR;
#   3. creates (or re-keys) one user per role and attaches its policy;
#   4. has colophon-scans send its s3:ObjectCreated events to MinIO's NATS target COLOPHON
#      (S3-native ingest; the minio service's MINIO_NOTIFY_NATS_*_COLOPHON settings).
# Secrets are passed to mc on stdin, never on its command line.
#
# Environment:
#   COLOPHON_MINIO_URL            MinIO endpoint (default http://minio:9000)
#   MINIO_ROOT_USER               MinIO root credentials (required)
#   MINIO_ROOT_PASSWORD
#   COLOPHON_POLICY_DIR           policy JSON files (default /etc/colophon/minio-policies)
#   COLOPHON_OCR_ACCESS_KEY       OCR worker user       (default colophon-ocr)
#   COLOPHON_OCR_SECRET           its secret            (required, 8+ characters)
#   COLOPHON_METADATA_ACCESS_KEY  metadata worker user  (default colophon-metadata)
#   COLOPHON_METADATA_SECRET      its secret            (required, 8+ characters)
#   COLOPHON_UPLOADER_ACCESS_KEY  uploading client user (default colophon-uploader)
#   COLOPHON_UPLOADER_SECRET      its secret            (required, 8+ characters)
#   COLOPHON_INGEST_ACCESS_KEY    ingest worker user    (default colophon-ingest)
#   COLOPHON_INGEST_SECRET        its secret            (required, 8+ characters)
#   COLOPHON_INIT_WAIT            seconds to wait for MinIO to answer (default 120)
set -eu

url=${COLOPHON_MINIO_URL:-http://minio:9000}
policy_dir=${COLOPHON_POLICY_DIR:-/etc/colophon/minio-policies}
wait_s=${COLOPHON_INIT_WAIT:-120}
: "${MINIO_ROOT_USER:?MINIO_ROOT_USER must be set}"
: "${MINIO_ROOT_PASSWORD:?MINIO_ROOT_PASSWORD must be set}"
ocr_user=${COLOPHON_OCR_ACCESS_KEY:-colophon-ocr}
ocr_secret=${COLOPHON_OCR_SECRET:?COLOPHON_OCR_SECRET must be set}
meta_user=${COLOPHON_METADATA_ACCESS_KEY:-colophon-metadata}
meta_secret=${COLOPHON_METADATA_SECRET:?COLOPHON_METADATA_SECRET must be set}
up_user=${COLOPHON_UPLOADER_ACCESS_KEY:-colophon-uploader}
up_secret=${COLOPHON_UPLOADER_SECRET:?COLOPHON_UPLOADER_SECRET must be set}
in_user=${COLOPHON_INGEST_ACCESS_KEY:-colophon-ingest}
in_secret=${COLOPHON_INGEST_SECRET:?COLOPHON_INGEST_SECRET must be set}

log() { printf 'minio-init: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for s in "$ocr_secret" "$meta_secret" "$up_secret" "$in_secret"; do
	[ "${#s}" -ge 8 ] || die "worker and uploader secrets must be at least 8 characters (MinIO's minimum)"
done
for f in ocr-worker metadata-worker uploader ingest-worker; do
	[ -r "$policy_dir/$f.json" ] || die "missing policy $policy_dir/$f.json"
done

# mc keeps its aliases in a config directory; use a private, throwaway one.
MC_CONFIG_DIR=$(mktemp -d)
export MC_CONFIG_DIR
trap 'rm -rf "$MC_CONFIG_DIR"' EXIT
trap 'exit 143' INT TERM
alias=colophon

# `mc alias set` probes the server, so retrying it is also the wait for MinIO.
deadline=$(($(date +%s) + wait_s))
until out=$(printf '%s\n%s\n' "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" |
	mc --quiet --no-color alias set "$alias" "$url" 2>&1); do
	[ "$(date +%s)" -lt "$deadline" ] || die "no working connection to MinIO at $url within ${wait_s}s: $out"
	log "waiting for MinIO at $url"
	sleep 2
done
# Answering is not the same as serving: wait until the cluster reports itself healthy.
timeout "$wait_s" mc --quiet --no-color ready "$alias" >/dev/null || die "MinIO at $url is not healthy"


# Records are write-once (object lock, governance mode, COLOPHON_RECORD_RETENTION_DAYS), so
# the provenance bucket is made with a lock: S3 only allows it when a bucket is created.
# Scans and texts keep every version. The workers check this, they cannot set it.
retention_days=${COLOPHON_RECORD_RETENTION_DAYS:-3650}
mc --quiet --no-color mb --ignore-existing --with-lock "$alias/colophon-provenance" >/dev/null
mc --quiet --no-color retention set --default GOVERNANCE "${retention_days}d" "$alias/colophon-provenance" >/dev/null \
	|| log "colophon-provenance has no object lock (made before it was asked for): versioning only"
for b in colophon-scans colophon-texts colophon-provenance; do
	mc --quiet --no-color mb --ignore-existing "$alias/$b" >/dev/null
	mc --quiet --no-color version enable "$alias/$b" >/dev/null
	log "bucket $b ready"
done

# role policy-file user secret
setup_role() {
	policy=colophon-$1
	mc --quiet --no-color admin policy create "$alias" "$policy" "$policy_dir/$1.json" >/dev/null
	printf '%s\n' "$3" | mc --quiet --no-color admin user add "$alias" "$2" >/dev/null
	# Attaching a policy the user already has is not an error (mc ignores "already applied").
	mc --quiet --no-color admin policy attach "$alias" "$policy" --user "$2" >/dev/null
	log "user $2 has policy $policy"
}
setup_role ocr-worker "$ocr_user" "$ocr_secret"
setup_role metadata-worker "$meta_user" "$meta_secret"
setup_role uploader "$up_user" "$up_secret"
setup_role ingest-worker "$in_user" "$in_secret"

# S3-native ingest: every object created in colophon-scans is published to NATS ("put" is
# s3:ObjectCreated:*). Added once: MinIO refuses a second rule for the same events.
arn=arn:minio:sqs::COLOPHON:nats
if mc --quiet --no-color event ls "$alias/colophon-scans" "$arn" 2>/dev/null | grep -q "$arn"; then
	log "colophon-scans already sends its new objects to $arn"
else
	mc --quiet --no-color event add "$alias/colophon-scans" "$arn" --event put >/dev/null \
		|| die "cannot send colophon-scans events to $arn: is MINIO_NOTIFY_NATS_ENABLE_COLOPHON=on set for the minio service?"
	log "colophon-scans sends its new objects to $arn"
fi

log "done"
