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
        assertThat(csv.get(0)).startsWith("row,column,row_key,row_value,col_key,col_value,seed,steps,scheduler,"
                + "guidance,width,height,total_ms").endsWith(",x,y,cell_width,cell_height");
        assertThat(csv.get(4)).startsWith("1,1,seed,2,scheduler,euler,2,4,euler,");

        Path single = dir.resolve("single.png");
        CliRun one = conditio("generate", "--recipe", recipe().toString(), "--seed", "2", "--scheduler", "euler",
                "--quiet", "--out", single.toString(), "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(one.code()).as(one.err()).isZero();
        RgbImage expected = PngImages.read(single);
        String[] f = csv.get(4).split(",");
        int x = Integer.parseInt(f[f.length - 4]);
        int y = Integer.parseInt(f[f.length - 3]);
        assertThat(Integer.parseInt(f[f.length - 2])).isEqualTo(expected.width() * 2);
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
        String[] f0 = csv.get(1).split(",");
        float[] first = new float[crop.length];
        int x0 = Integer.parseInt(f0[f0.length - 4]);
        int y0 = Integer.parseInt(f0[f0.length - 3]);
        for (int yy = 0; yy < expected.height(); yy++) {
            for (int xx = 0; xx < expected.width(); xx++) {
                int s = ((y0 + 2 * yy) * sheetImage.width() + x0 + 2 * xx) * 3;
                System.arraycopy(sheetImage.pixels(), s, first, (yy * expected.width() + xx) * 3, 3);
            }
        }
        assertThat(Arrays.equals(first, crop)).isFalse();
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
