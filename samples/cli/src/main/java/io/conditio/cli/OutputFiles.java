package io.conditio.cli;

import io.conditio.api.InvalidRequestException;
import io.conditio.core.io.AtomicOutputs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** What the commands that write files share: the check before any work, and the name of a PNG without .png. */
final class OutputFiles {
    private OutputFiles() {
    }

    /** Refuses a file that could not be written, naming the flag: {@code FLAG FILE: cannot write there: why}. */
    static void checkWritable(String flag, Path file) {
        check(file, flag + " " + file);
    }

    /** Refuses a file that could not be written: {@code FILE: cannot write there: why}. */
    static void checkWritable(Path file) {
        check(file, file.toString());
    }

    private static void check(Path file, String named) {
        try {
            AtomicOutputs.checkWritable(file);
        } catch (IOException e) {
            throw new InvalidRequestException(named + ": cannot write there: " + AtomicOutputs.reason(e));
        }
    }

    /** The file name without a {@code .png} ending (of any case); the whole name when it has none. */
    static String stem(Path file) {
        String name = file.getFileName().toString();
        return name.toLowerCase(Locale.ROOT).endsWith(".png") ? name.substring(0, name.length() - 4) : name;
    }
}
