package io.conditio.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version of this SPI, in semantic-versioning form. Hosts register it as PF4J's system version, so a plugin's
 * {@code Plugin-Requires} range (for example {@code >=0.1.0 & <1.0.0}) is checked against it when the plugin loads.
 */
public final class SpiVersion {
    private static final String VERSION = load();

    private SpiVersion() {
    }

    /** @return the SPI version, never null, e.g. {@code "0.1.0"} */
    public static String current() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = SpiVersion.class.getResourceAsStream("spi.properties")) {
            if (in == null) {
                throw new IllegalStateException("io/conditio/api/spi.properties is missing from the api jar");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
