package io.conditio.it;

import static io.conditio.it.CliRun.conditio;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.RgbImage;
import io.conditio.core.image.PngImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code conditio compare}: a contact sheet whose cells are exactly what {@code generate} makes, and its CSV. */
class CompareTest {
    @TempDir
    Path dir;

    private Path recipe() throws IOException {
        Path r = dir.resolve("r.json");
        Files.writeString(r, "{\"model\": \"" + ShapesModelTest.modelDir().toAbsolutePath() + "\", \"prompt\": "
                + "\"a red circle\", \"seed\": 1, \"steps\": 4}");
        return r;
    }

    @Test
    void everyCellIsTheImageGenerateMakesWithThoseSettings() throws IOException {
        Path sheet = dir.resolve("sheet.png");
        CliRun run = conditio("compare", "--recipe", recipe().toString(), "--rows", "seed=1,2", "--cols",
                "scheduler=ddim,euler", "--scale", "2", "--out", sheet.toString(), "--plugins",
                TinyFixtures.pluginDir().toString());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("wrote " + sheet + " (2x2 cells");
        List<String> csv = Files.readAllLines(dir.resolve("sheet.csv"));
        assertThat(csv).hasSize(5);
        assertThat(csv.get(0)).isEqualTo("row,column,row_key,row_value,col_key,col_value,seed,steps,scheduler,"
                + "guidance,width,height,total_ms,prepare_ms,loop_ms,unet_ms_per_call,model_calls,decode_ms,x,y,"
                + "cell_width,cell_height,recipe");
        assertThat(csv.get(4)).startsWith("1,1,seed,2,scheduler,euler,2,4,euler,");
        List<String> header = fields(csv.get(0));
        List<String> last = fields(csv.get(4));
        assertThat(last).hasSameSizeAs(header);
        assertThat(Double.parseDouble(last.get(header.indexOf("prepare_ms")))).isPositive();
        assertThat(Double.parseDouble(last.get(header.indexOf("decode_ms")))).isPositive();
        assertThat(Integer.parseInt(last.get(header.indexOf("model_calls")))).isEqualTo(4);

        Path single = dir.resolve("single.png");
        CliRun one = conditio("generate", "--recipe", recipe().toString(), "--seed", "2", "--scheduler", "euler",
                "--quiet", "--out", single.toString(), "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(one.code()).as(one.err()).isZero();
        RgbImage expected = PngImages.read(single);
        int x = Integer.parseInt(last.get(header.indexOf("x")));
        int y = Integer.parseInt(last.get(header.indexOf("y")));
        assertThat(Integer.parseInt(last.get(header.indexOf("cell_width")))).isEqualTo(expected.width() * 2);
        RgbImage sheetImage = PngImages.read(sheet);
        float[] crop = new float[expected.pixels().length];
        for (int yy = 0; yy < expected.height(); yy++) {
            for (int xx = 0; xx < expected.width(); xx++) {
                int s = ((y + 2 * yy) * sheetImage.width() + x + 2 * xx) * 3;
                System.arraycopy(sheetImage.pixels(), s, crop, (yy * expected.width() + xx) * 3, 3);
            }
        }
        assertThat(crop).as("the sheet's cell (seed 2, euler)").containsExactly(expected.pixels());
        // and the cells differ from each other: the settings took effect
        List<String> f0 = fields(csv.get(1));
        float[] first = new float[crop.length];
        int x0 = Integer.parseInt(f0.get(header.indexOf("x")));
        int y0 = Integer.parseInt(f0.get(header.indexOf("y")));
        for (int yy = 0; yy < expected.height(); yy++) {
            for (int xx = 0; xx < expected.width(); xx++) {
                int s = ((y0 + 2 * yy) * sheetImage.width() + x0 + 2 * xx) * 3;
                System.arraycopy(sheetImage.pixels(), s, first, (yy * expected.width() + xx) * 3, 3);
            }
        }
        assertThat(Arrays.equals(first, crop)).isFalse();

        // the recipe column is the cell's whole recipe: run as a recipe file, it makes that cell's image again
        Path cellRecipe = dir.resolve("cell.json");
        Files.writeString(cellRecipe, last.get(header.indexOf("recipe")));
        Path again = dir.resolve("again.png");
        CliRun rerun = conditio("generate", "--recipe", cellRecipe.toString(), "--quiet", "--out", again.toString(),
                "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(rerun.code()).as(rerun.err()).isZero();
        assertThat(PngImages.read(again).pixels()).containsExactly(expected.pixels());
    }

    @Test
    void aWarmupChangesTimingsOnlyNotTheCells() throws IOException {
        Path cold = dir.resolve("cold.png");
        Path warm = dir.resolve("warm.png");
        for (Path sheet : List.of(cold, warm)) {
            CliRun run = conditio("compare", "--recipe", recipe().toString(), "--rows", "scheduler=ddim,euler",
                    "--warmup", sheet == warm ? "1" : "0", "--out", sheet.toString(), "--plugins",
                    TinyFixtures.pluginDir().toString());
            assertThat(run.code()).as(run.err()).isZero();
        }
        assertThat(PngImages.read(warm).pixels()).containsExactly(PngImages.read(cold).pixels());
        List<String> coldCsv = Files.readAllLines(dir.resolve("cold.csv"));
        List<String> warmCsv = Files.readAllLines(dir.resolve("warm.csv"));
        assertThat(warmCsv).hasSameSizeAs(coldCsv);
        for (int i = 1; i < coldCsv.size(); i++) {
            List<String> a = fields(coldCsv.get(i));
            List<String> b = fields(warmCsv.get(i));
            assertThat(b.subList(0, 12)).as("settings of cell %d", i).isEqualTo(a.subList(0, 12));
            assertThat(b.get(b.size() - 1)).isEqualTo(a.get(a.size() - 1));
        }
        CliRun bad = conditio("compare", "--recipe", recipe().toString(), "--rows", "seed=1,2", "--warmup", "-1",
                "--out", dir.resolve("bad.png").toString(), "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("--warmup -1: expected 0 to 100");
    }

    /** One CSV line's fields, with RFC 4180 quoting (a JSON field holds commas and doubled quotes). */
    private static List<String> fields(String line) {
        List<String> out = new java.util.ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    field.append(ch);
                }
            } else if (ch == '"') {
                quoted = true;
            } else if (ch == ',') {
                out.add(field.toString());
                field.setLength(0);
            } else {
                field.append(ch);
            }
        }
        out.add(field.toString());
        return out;
    }

    @Test
    void anUnknownSettingIsRefusedBeforeAnythingRuns() throws IOException {
        Path sheet = dir.resolve("bad.png");
        CliRun run = conditio("compare", "--recipe", recipe().toString(), "--rows", "sede=1,2", "--out",
                sheet.toString(), "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("unknown setting 'sede' (did you mean 'seed'?)");
        CliRun range = conditio("compare", "--recipe", recipe().toString(), "--rows", "guidance_scale=3,7",
                "--cols", "strength=0.5,2", "--out", sheet.toString(), "--plugins",
                TinyFixtures.pluginDir().toString());
        assertThat(range.code()).isEqualTo(1);
        assertThat(range.err()).contains("'strength' must be in (0, 1], got 2");
        assertThat(Files.exists(sheet)).isFalse();
        assertThat(run.out()).doesNotContain(" ms");
    }
}
