package io.conditio.spark;

import java.io.Serializable;

/**
 * One request of a batch as it travels to an executor: its id, the request as recipe JSON, the folder relative paths
 * in it are resolved against, and an estimate of its cost used to balance partitions.
 *
 * @param id      the request id (names the output file)
 * @param json    the request as one recipe-shaped JSON object
 * @param baseDir the folder of the requests file: relative paths in the request are resolved against it
 * @param cost    relative cost (steps × pixels × UNet calls per step), for balancing
 */
public record BatchRequest(String id, String json, String baseDir, double cost) implements Serializable {
    private static final long serialVersionUID = 1L;
}
