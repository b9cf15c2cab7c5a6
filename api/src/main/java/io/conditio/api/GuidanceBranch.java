package io.conditio.api;

import java.util.Objects;
import java.util.Set;

/**
 * One entry of the guidance batch: which conditions this branch of the UNet batch drops.
 * Classifier-free guidance has two branches, {@code uncond} (drops everything) and {@code cond} (drops nothing);
 * instruct-pix2pix has three. A {@link Conditioning} fills each branch with its condition or its null condition.
 *
 * @param name    a short name for messages and provenance, e.g. {@code "uncond"}
 * @param dropped the condition kinds this branch leaves out (see {@link #ALL}), e.g. {@code text}, {@code image}
 */
public record GuidanceBranch(String name, Set<String> dropped) {
    /** In {@link #dropped}: the branch drops every condition. */
    public static final String ALL = "*";

    /** The unconditional branch of classifier-free guidance. */
    public static final GuidanceBranch UNCONDITIONAL = new GuidanceBranch("uncond", Set.of(ALL));
    /** The conditional branch. */
    public static final GuidanceBranch CONDITIONAL = new GuidanceBranch("cond", Set.of());

    /** Validates and copies. */
    public GuidanceBranch {
        Objects.requireNonNull(name, "name");
        dropped = Set.copyOf(dropped);
    }

    /**
     * @param conditionKind a condition kind, e.g. {@code text}
     * @return true when this branch should get the null condition for that kind
     */
    public boolean drops(String conditionKind) {
        return dropped.contains(ALL) || dropped.contains(conditionKind);
    }
}
