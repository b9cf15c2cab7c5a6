package io.conditio.cli;

import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.io.AtomicOutputs;
import io.conditio.core.parameters.ParameterCatalog;
import io.conditio.core.pipeline.Pipeline;
import io.conditio.core.recipe.Recipe;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code conditio compare}: a recipe across two settings, as a labelled contact sheet and a CSV. */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Render a recipe across the values of two settings (recipe fields such as seed, scheduler, "
                + "steps, guidance_scale, or any declared parameter) as a labelled contact-sheet PNG, plus a CSV of "
                + "the settings and timings of every cell.")
final class CompareCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--recipe", paramLabel = "FILE", required = true,
            description = "The recipe every cell starts from.")
    Path recipe;

    @Option(names = "--rows", paramLabel = "KEY=V1,V2,...", required = true, description = "The setting of the rows.")
    String rows;

    @Option(names = "--cols", paramLabel = "KEY=V1,V2,...", description = "The setting of the columns (default: one "
            + "column, the recipe as it is).")
    String cols;

    @Option(names = "--out", paramLabel = "SHEET.png", defaultValue = "compare.png",
            description = "The contact sheet (default: ${DEFAULT-VALUE}); the CSV goes beside it (SHEET.csv).")
    Path out;

    @Option(names = "--scale", paramLabel = "K", defaultValue = "2",
            description = "Enlarge every image K times in the sheet (default: ${DEFAULT-VALUE}).")
    int scale;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "0",
            description = "Generate every cell N times, untimed, right before its timed run, so that its timings "
                    + "leave out opening the models it is the first to use (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--model", paramLabel = "DIR", description = "Model folder (default: the recipe's).")
    Path model;

    @Mixin
    PluginDirectoryOption plugins = new PluginDirectoryOption();

    record Axis(String key, List<String> values) {
        static Axis parse(String flag, String text) {
            int eq = text.indexOf('=');
            if (eq <= 0 || eq == text.length() - 1) {
                throw new InvalidRequestException(flag + " " + text + ": expected KEY=V1,V2,...");
            }
            List<String> values = new ArrayList<>();
            for (String v : splitValues(text.substring(eq + 1))) {
                values.add(v.strip());
            }
            return new Axis(text.substring(0, eq).strip(), values);
        }

        /** Commas inside brackets or braces (a JSON group) do not split. */
        private static List<String> splitValues(String s) {
            List<String> out = new ArrayList<>();
            int depth = 0;
            int start = 0;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '[' || c == '{') {
                    depth++;
                } else if (c == ']' || c == '}') {
                    depth--;
                } else if (c == ',' && depth == 0) {
                    out.add(s.substring(start, i));
                    start = i + 1;
                }
            }
            out.add(s.substring(start));
            return out;
        }
    }

    @Override
    public Integer call() throws IOException {
        if (scale < 1 || scale > 16) {
            throw new InvalidRequestException("--scale " + scale + ": expected 1 to 16");
        }
        if (warmup < 0 || warmup > 100) {
            throw new InvalidRequestException("--warmup " + warmup + ": expected 0 to 100");
        }
        Recipe base = Recipe.read(recipe);
        Axis rowAxis = Axis.parse("--rows", rows);
        Axis colAxis = cols == null ? new Axis("", List.of("")) : Axis.parse("--cols", cols);
        Path folder = model != null ? model : base.model().orElseGet(() -> ConditioCli.modelDirectory(null));
        Path csv = out.resolveSibling(OutputFiles.stem(out) + ".csv");
        for (Path p : List.of(out, csv)) {
            OutputFiles.checkWritable(p);
        }
        PrintWriter o = spec.commandLine().getOut();
        try (Conditio conditio = Conditio.start(List.of(plugins.directory()));
                Pipeline pipeline = conditio.open(folder)) {
            ParameterCatalog catalog = pipeline.parameters();
            // every cell's request is built and validated before the first one runs
            Recipe[][] recipes = new Recipe[rowAxis.values().size()][colAxis.values().size()];
            for (int r = 0; r < recipes.length; r++) {
                for (int c = 0; c < recipes[r].length; c++) {
                    Recipe cell = base.withSetting(rowAxis.key(), rowAxis.values().get(r), catalog);
                    if (!colAxis.key().isEmpty()) {
                        cell = cell.withSetting(colAxis.key(), colAxis.values().get(c), catalog);
                    }
                    cell.toRequest(catalog);
                    recipes[r][c] = cell;
                }
            }
            RgbImage[][] cells = new RgbImage[recipes.length][recipes[0].length];
            StringBuilder table = new StringBuilder("row,column,row_key,row_value,col_key,col_value,seed,steps,"
                    + "scheduler,guidance,width,height,total_ms,prepare_ms,loop_ms,unet_ms_per_call,model_calls,"
                    + "decode_ms\n");
            List<String> cellRecipes = new ArrayList<>();
            for (int r = 0; r < recipes.length; r++) {
                for (int c = 0; c < recipes[r].length; c++) {
                    for (int i = 0; i < warmup; i++) {
                        pipeline.generate(recipes[r][c].toRequest(catalog));
                    }
                    long t0 = System.nanoTime();
                    GenerationResult result = pipeline.generate(recipes[r][c].toRequest(catalog));
                    double total = (System.nanoTime() - t0) / 1e6;
                    cells[r][c] = result.image();
                    var p = result.provenance();
                    table.append(String.format(Locale.ROOT,
                            "%d,%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%.1f,%.1f,%.1f,%.2f,%d,%.1f%n", r, c,
                            csvField(rowAxis.key()), csvField(rowAxis.values().get(r)),
                            csvField(colAxis.key()), csvField(colAxis.values().get(c)), p.get("seed"),
                            p.get("steps"), csvField(p.get("scheduler")), csvField(p.get("guidance")),
                            p.get("width"), p.get("height"), total, result.timings().prepareNanos() / 1e6,
                            result.timings().loopNanos() / 1e6, result.timings().meanUnetMillis(),
                            result.timings().modelCalls(), result.timings().decodeNanos() / 1e6));
                    cellRecipes.add(csvField(recipes[r][c].toString()));
                    o.printf(Locale.ROOT, "%s=%s %s%s: %.0f ms%n", rowAxis.key(), rowAxis.values().get(r),
                            colAxis.key().isEmpty() ? "" : colAxis.key() + "=", colAxis.values().get(c), total);
                    o.flush();
                }
            }
            int w = cells[0][0].width();
            int h = cells[0][0].height();
            for (RgbImage[] row : cells) {
                for (RgbImage cell : row) {
                    if (cell.width() != w || cell.height() != h) {
                        throw new InvalidRequestException("the cells have different sizes (" + w + "x" + h + " and "
                                + cell.width() + "x" + cell.height() + "); compare settings of one size");
                    }
                }
            }
            List<String> rowNames = rowAxis.values().stream().map(v -> rowAxis.key() + "=" + v).toList();
            List<String> colNames = colAxis.key().isEmpty() ? List.of("")
                    : colAxis.values().stream().map(v -> colAxis.key() + "=" + v).toList();
            String title = "\"" + base.prompt().orElse("") + "\"  - " + recipe.getFileName() + " on "
                    + folder.getFileName();
            ContactSheet.Sheet laid = ContactSheet.render(title, rowNames, colNames, cells, scale);
            RgbImage sheet = laid.image();
            String[] lines = table.toString().split("\n");
            StringBuilder placed = new StringBuilder(lines[0]).append(",x,y,cell_width,cell_height,recipe\n");
            for (int i = 1; i < lines.length; i++) {
                int r = (i - 1) / recipes[0].length;
                int c = (i - 1) % recipes[0].length;
                placed.append(lines[i]).append(',').append(laid.x()[r][c]).append(',').append(laid.y()[r][c])
                        .append(',').append(w * scale).append(',').append(h * scale).append(',')
                        .append(cellRecipes.get(i - 1)).append('\n');
            }
            Map<String, String> text = new LinkedHashMap<>();
            text.put("conditio.compare", "recipe " + recipe + ", rows " + rows
                    + (cols == null ? "" : ", cols " + cols));
            text.put("conditio.recipe.base", base.toString());
            Map<Path, byte[]> files = new LinkedHashMap<>();
            files.put(out, PngImages.encode(sheet, text));
            files.put(csv, placed.toString().getBytes(StandardCharsets.UTF_8));
            AtomicOutputs.writeAll(files);
            o.println("wrote " + out + " (" + recipes.length + "x" + recipes[0].length + " cells, " + sheet.width()
                    + "x" + sheet.height() + ") and " + csv);
        }
        return 0;
    }

    private static String csvField(String v) {
        if (v == null) {
            return "";
        }
        return v.contains(",") || v.contains("\"") || v.contains("\n") ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
    }
}
