#!/usr/bin/env bash
# Where the main command's time goes: runs it once with the JVM's class-load log (uptime decorations) and prints when
# the first class of each phase was loaded, the time since the previous mark, and how many classes came from the
# CDS archive (the application's classes and the JDK's) and the jars. The marks are classes each phase loads first, in the order this
# build loads them, so a phase's time runs from its first class to the next phase's first class; the native ONNX
# Runtime work (loading the library, opening sessions) shows in the phases that follow its classes.
#
#   tools/startup/profile.sh [LAUNCHER]      (default: samples/cli/target/conditio)
set -euo pipefail
cd "$(dirname "$0")/../.."
launcher=${1:-samples/cli/target/conditio}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s%N)
CONDITIO_LOG="$work/conditio.log" CONDITIO_JAVA_OPTS="${CONDITIO_JAVA_OPTS:-} -Xlog:class+load:file=$work/classes.log:uptime" \
    "$launcher" generate --prompt "a red circle at the top left" --out "$work/out.png" >/dev/null 2>&1
end=$(date +%s%N)
awk -v total=$(((end - start) / 1000000)) '
BEGIN {
    n = split("java.lang.Object|JVM start;" \
        "io.conditio.cli.ConditioCli|CLI main: picocli builds the commands and parses;" \
        "com.google.inject.Guice|Guice injector;" \
        "org.pf4j.DefaultPluginManager|PF4J: plugin jars found, loaded, started, extensions made;" \
        "io.conditio.core.model.ModelFolder|model folder, pipeline, parameter catalog, request;" \
        "ai.onnxruntime.OrtEnvironment|ONNX Runtime native libraries loaded, environment made;" \
        "ai.onnxruntime.OrtAllocator|UNet session opened;" \
        "ai.onnxruntime.NodeInfo|VAE decoder session, scheduler, start latents;" \
        "io.conditio.core.tokenizer.ClipTokenizer|tokenizer, text encoder session, prompt encoded;" \
        "io.conditio.core.pipeline.Generation$Step|the denoise loop;" \
        "io.conditio.core.pipeline.Generation$Denoised|VAE decode;" \
        "io.conditio.core.model.ModelHash|model folder hash, provenance;" \
        "io.conditio.core.image.PngImages|PNG encoded and written, exit", marks, ";")
    for (i = 1; i <= n; i++) { split(marks[i], kv, "|"); cls[i] = kv[1]; what[i] = kv[2]; at[i] = -1 }
}
{
    t = substr($1, 2, length($1) - 3) + 0
    last = t
    for (i = 1; i <= n; i++) if (at[i] < 0 && $2 == cls[i]) at[i] = t
    jdk = $2 ~ /^(java|javax|jdk|sun|com\.sun)\./
    if ($0 ~ /shared objects file/ && !jdk) top++
    else if ($0 ~ /shared objects file/) base++
    else if ($0 ~ /source: (file|jar):/) jar++
    else other++
}
END {
    for (i = 1; i <= n; i++) {
        if (at[i] < 0) { printf "  (not seen: %s)\n", cls[i]; continue }
        nextAt = last
        for (j = i + 1; j <= n; j++) if (at[j] >= 0) { nextAt = at[j]; break }
        printf "%7.0f ms  +%5.0f ms  %s\n", at[i] * 1000, (nextAt - at[i]) * 1000, what[i]
    }
    printf "%7.0f ms  last class loaded; whole process %d ms (wall, with the launcher script)\n", last * 1000, total
    printf "classes: %d of the application and %d of the JDK from the CDS archive, %d from jars, %d other (JDK modules, generated)\n",
        top, base, jar, other
}' "$work/classes.log"
