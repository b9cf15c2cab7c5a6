package io.conditio.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Checks of an extension's parameter declarations, shared by the contracts. */
public final class Declarations {
    private Declarations() {
    }

    /**
     * Every key declared once, with a one-line description; defaults and allowed values pass their own check;
     * groups have fields; ranges are not empty.
     *
     * @param owner        what declares them, for messages
     * @param declarations the declarations
     */
    public static void assertWellFormed(String owner, List<ParameterDeclaration> declarations) {
        assertThat(declarations).as("%s parameters()", owner).isNotNull().doesNotContainNull();
        Set<String> names = new HashSet<>();
        for (ParameterDeclaration d : declarations) {
            assertThat(names.add(d.name())).as("%s declares '%s' once", owner, d.name()).isTrue();
            check(owner, d);
        }
    }

    /**
     * An id without spaces, and well-formed declarations ({@link #assertWellFormed}).
     *
     * @param kind         what the extension is, for messages: {@code conditioner}, {@code guidance}
     * @param id           its id
     * @param declarations its declarations
     */
    static void assertIdAndDeclarations(String kind, String id, List<ParameterDeclaration> declarations) {
        assertThat(id).as("id").isNotBlank().doesNotContain(" ");
        assertWellFormed(kind + " " + id, declarations);
    }

    private static void check(String owner, ParameterDeclaration d) {
        String what = owner + " parameter '" + d.name() + "'";
        assertThat(d.description()).as("%s has a description", what).isNotBlank().doesNotContain("\n");
        if (d.minimum().isPresent() && d.maximum().isPresent()) {
            assertThat(d.minimum().get()).as("%s range %s", what, d.rangeText())
                    .isLessThanOrEqualTo(d.maximum().get());
        }
        d.defaultValue().ifPresent(v -> {
            Object item = d.list() && !(v instanceof List<?>) && !d.singleAllowed() ? List.of(v) : v;
            assertThat(d.check(item)).as("%s: its default %s passes its own check", what, v).isEmpty();
        });
        for (String allowed : d.allowedValues()) {
            assertThat(d.check(d.list() ? List.of(allowed) : allowed)).as("%s allows '%s'", what, allowed).isEmpty();
        }
        if (d.type() == ParameterType.GROUP) {
            assertThat(d.fields()).as("%s fields", what).isNotEmpty();
            Set<String> fields = new HashSet<>();
            for (ParameterDeclaration f : d.fields()) {
                assertThat(fields.add(f.name())).as("%s field '%s' once", what, f.name()).isTrue();
                check(what, f);
            }
        }
    }
}
