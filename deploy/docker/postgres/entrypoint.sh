#!/bin/sh
# Start Debian's PostgreSQL 15 on $PGDATA; initialise it first when it is empty.
#
# First start: initdb with POSTGRES_USER as the superuser and POSTGRES_PASSWORD as its
# password (read from a 0600 file, never from the command line where `ps` shows it),
# scram-sha-256 for every TCP client (trust on the Unix socket, which only processes inside
# this container can reach: the healthcheck and this script), then POSTGRES_DB created through the local socket
# by a server that listens on no TCP address. Every later start just runs postgres.
# SIGINT (the image's STOPSIGNAL) is PostgreSQL's "fast shutdown".
set -eu

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "pjgw-postgres: POSTGRES_PASSWORD is empty; refusing to initialise $PGDATA" >&2
        exit 1
    fi
    umask 077
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
        --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256
    rm -f "$pwfile"
    printf '%s\n' "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait --silent start
    if [ "$POSTGRES_DB" != postgres ]; then
        # psql quotes the names itself (:"db"); variables are not expanded in --command
        echo 'CREATE DATABASE :"db" OWNER :"owner";' | psql --username="$POSTGRES_USER" \
            --dbname=postgres --set=ON_ERROR_STOP=1 --quiet --no-psqlrc \
            --set=db="$POSTGRES_DB" --set=owner="$POSTGRES_USER"
    fi
    pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
fi

exec postgres -D "$PGDATA" -c listen_addresses='*'
