#!/bin/sh
# redactor-probe ready|live: the health check of the redactor server in this container,
# installed in the image as /usr/local/bin/redactor-probe (Kubernetes exec probes, the
# image's HEALTHCHECK).
#
# Why not kubelet's own gRPC probe: it speaks plaintext only, and redactor listens with TLS
# off loopback (mutual TLS in production; redactor/server/app.py server_credentials). So the
# probe runs `redactor-client health`, which speaks TLS with the files its environment names:
# REDACTOR_TLS_CA (verifies the server), REDACTOR_TLS_CERT and REDACTOR_TLS_KEY (a client
# certificate for mutual TLS; health needs no role), REDACTOR_TLS_SERVER_NAME (a name in the
# server's certificate, since the probe dials 127.0.0.1). See docs/deployment.md#probes.
#
#   ready  exit 0 only while the overall status is SERVING. A full or draining server says
#          NOT_SERVING and leaves the Service's endpoints until it has room again.
#   live   exit 0 whenever the server answers, SERVING or NOT_SERVING: a full or draining
#          server is alive, and restarting it would cut its streams.
# Exit 1: not ready / not alive (the reason on stderr); 2: usage.
set -u

mode=${1:-}
case $mode in
ready | live) ;;
*)
	echo "usage: redactor-probe ready|live" >&2
	exit 2
	;;
esac

address=${REDACTOR_PROBE_ADDRESS:-127.0.0.1:50051}
# redactor-client prints the status (exit 0), or CODE: message on stderr (exit 1, 2).
status=$(redactor-client --address "$address" health) || exit 1
echo "$status"
if [ "$mode" = ready ] && [ "$status" != SERVING ]; then
	exit 1
fi
exit 0
