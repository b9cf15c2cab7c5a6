package io.conditio.plugins.preprocessors;

import io.conditio.api.ControlPreprocessor;

/** The name and description every preprocessor of this plugin gives once, in its constructor. */
abstract class NamedPreprocessor implements ControlPreprocessor {
    private final String name;
    private final String description;

    /**
     * @param name        the name users ask for ({@code --control-preprocess NAME})
     * @param description one line saying what it makes from what
     */
    NamedPreprocessor(String name, String description) {
        this.name = name;
        this.description = description;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String description() {
        return description;
    }
}
