package io.conditio.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The JSON Schema of a recipe's {@code parameters} for the built-in conditioning plugins (init image, mask,
 * ControlNets, class label), which the web page turns into controls.
 */
final class ParameterSchema {
    private ParameterSchema() {
    }

    static Map<String, Object> schema(ModelCatalog catalog) {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("init_image", image("img2img: start from this image", "concat-conditioning"));
        props.put("strength", number("img2img strength: how much of the schedule runs", 0.0, 1.0, 0.8,
                "concat-conditioning"));
        props.put("mask_image", image("inpainting mask, white = repaint (with init_image)", "concat-conditioning"));
        Map<String, Object> label = new LinkedHashMap<>();
        label.put("type", "integer");
        label.put("minimum", 0);
        label.put("description", "class label of a class-conditional UNet");
        label.put("x-plugin", "film-conditioning");
        props.put("class_label", label);
        TreeSet<String> names = new TreeSet<>();
        catalog.models().keySet().forEach(m -> names.addAll(catalog.controlNets(m).keySet()));
        Map<String, Object> unit = new LinkedHashMap<>();
        unit.put("type", "object");
        Map<String, Object> unitProps = new LinkedHashMap<>();
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "string");
        model.put("enum", new ArrayList<>(names));
        model.put("description", "one of the server's ControlNets");
        unitProps.put("model", model);
        unitProps.put("image", image("control image", "controlnet"));
        unitProps.put("scale", number("conditioning scale", 0.0, 2.0, 1.0, "controlnet"));
        unitProps.put("start", number("fraction of the steps where it starts", 0.0, 1.0, 0.0, "controlnet"));
        unitProps.put("end", number("fraction of the steps where it stops", 0.0, 1.0, 1.0, "controlnet"));
        Map<String, Object> pre = new LinkedHashMap<>();
        pre.put("type", "string");
        pre.put("enum", List.of("none", "canny"));
        pre.put("default", "none");
        unitProps.put("preprocess", pre);
        unit.put("properties", unitProps);
        unit.put("required", List.of("model", "image"));
        Map<String, Object> cn = new LinkedHashMap<>();
        cn.put("type", "array");
        cn.put("items", unit);
        cn.put("description", "ControlNets, each with its control image");
        cn.put("x-plugin", "controlnet");
        props.put("controlnets", cn);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        s.put("type", "object");
        s.put("properties", props);
        return s;
    }

    private static Map<String, Object> image(String description, String plugin) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "string");
        m.put("contentEncoding", "base64");
        m.put("contentMediaType", "image/png");
        m.put("description", description + " (a data:image/png;base64, URL)");
        m.put("x-plugin", plugin);
        return m;
    }

    private static Map<String, Object> number(String description, double min, double max, double dflt,
            String plugin) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "number");
        m.put("minimum", min);
        m.put("maximum", max);
        m.put("default", dflt);
        m.put("description", description);
        m.put("x-plugin", plugin);
        return m;
    }
}
