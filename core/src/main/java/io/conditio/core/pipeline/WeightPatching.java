package io.conditio.core.pipeline;

import io.conditio.api.GenerationRequest;
import io.conditio.api.ModelGraph;
import io.conditio.api.TensorFiles;
import io.conditio.api.WeightPatch;
import io.conditio.api.WeightPatchContext;
import io.conditio.api.WeightPatcher;
import io.conditio.core.model.ModelFolder;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.plugin.PluginGuard;
import io.conditio.core.safetensors.SafeTensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Asks every {@link WeightPatcher} for a component's patches and returns the folder's session for that set. */
final class WeightPatching {
    private WeightPatching() {
    }

    static OnnxModel model(List<WeightPatcher> patchers, ModelFolder folder, GenerationRequest request,
                           PluginGuard guard, String component) {
        if (patchers.isEmpty()) {
            return folder.model(component);
        }
        WeightPatchContext context = new WeightPatchContext() {
            @Override
            public String component() {
                return component;
            }

            @Override
            public ModelGraph graph() {
                return folder.graph(component);
            }

            @Override
            public GenerationRequest request() {
                return request;
            }

            @Override
            public Path modelFolder() {
                return folder.root();
            }

            @Override
            public TensorFiles tensorFiles() {
                return SafeTensors::read;
            }
        };
        List<WeightPatch> patches = new ArrayList<>();
        for (WeightPatcher p : patchers) {
            guard.call(p, "weight patcher patch", () -> p.patch(context)).ifPresent(patches::add);
        }
        return folder.model(component, patches);
    }
}
