#!/usr/bin/env bash
# Regenerates samples/sample.mp4: 12 s, 480x270, 25 fps, H.264 with B-frames and a 2 s GOP, AAC
# audio. The picture shows its own frame number twice: testsrc's counter, and a band of 12 blocks
# along the top (block i light = bit i of the frame number), which the tests read back.
set -euo pipefail
cd "$(dirname "$0")"
band="color=c=black:size=480x30:rate=25,geq=lum='if(mod(floor(N/pow(2,floor(X*12/W))),2),235,16)':cb=128:cr=128"
ffmpeg -v error -y \
  -f lavfi -i "testsrc=size=480x240:rate=25" -f lavfi -i "$band" \
  -f lavfi -i "sine=frequency=330:sample_rate=44100" \
  -filter_complex "[1][0]vstack,format=yuv420p[v]" -map "[v]" -map 2:a -t 12 \
  -c:v libx264 -preset slow -crf 30 -bf 3 -g 50 -keyint_min 50 -sc_threshold 0 \
  -colorspace bt709 -color_primaries bt709 -color_trc bt709 \
  -c:a aac -b:a 32k -movflags +faststart sample.mp4
