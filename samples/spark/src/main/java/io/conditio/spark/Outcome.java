package io.conditio.spark;

import java.io.Serializable;

/**
 * What an executor sends back for one request.
 *
 * @param id       the request id
 * @param ok       true when the image was generated
 * @param manifest the request's manifest line (JSON)
 * @param png      the PNG bytes with provenance (only in Parquet mode, only when ok), else null
 */
record Outcome(String id, boolean ok, String manifest, byte[] png) implements Serializable {
    private static final long serialVersionUID = 1L;
}
