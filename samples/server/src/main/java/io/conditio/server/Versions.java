package io.conditio.server;

/** The version this server reports. */
final class Versions {
    private Versions() {
    }

    static String conditio() {
        String v = Versions.class.getPackage().getImplementationVersion();
        return v == null ? io.conditio.api.SpiVersion.current() : v;
    }
}
