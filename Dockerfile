# slabfuzz on Debian 12: the same set-up and build as a developer machine.
# Also the base image recipe for OSS-Fuzz / ClusterFuzzLite builds.
FROM debian:12
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates git && rm -rf /var/lib/apt/lists/*
WORKDIR /src/slabfuzz
COPY . .
# scripts/setup installs the Debian packages and the pinned npm engines.
RUN scripts/setup && cmake --preset release && cmake --build --preset release \
 && cmake --preset fuzz && cmake --build --preset fuzz
CMD ["scripts/test"]
