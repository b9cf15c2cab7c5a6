package io.conditio.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page in headless Chromium (Debian's chromium and chromium-driver): a person types a prompt, watches the
 * progress bar move, cancels that generation and gets an image from the next one.
 */
class WebPageTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path DRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    static Path profile;

    static ConditioServer server;
    static WebDriver browser;

    @BeforeAll
    static void start() {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "needs Debian's chromium and chromium-driver (.ci/run installs them)");
        server = TestServers.start(b -> { });
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toString());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--user-data-dir=" + profile.resolve("chromium"), "--window-size=1100,1000");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.close();
        }
    }

    private static WebDriverWait waiting(int seconds) {
        return new WebDriverWait(browser, Duration.ofSeconds(seconds), Duration.ofMillis(20));
    }

    private static double progress() {
        Object v = ((JavascriptExecutor) browser).executeScript("return document.getElementById('progress').value");
        return ((Number) v).doubleValue();
    }

    private static String status() {
        return browser.findElement(By.id("status")).getText();
    }

    @Test
    void typeAPromptWatchTheProgressCancelItThenGetAnImageFromTheNextOne() throws Exception {
        browser.get(server.url() + "/");
        waiting(20).until(d -> "true".equals(d.findElement(By.tagName("body")).getDomAttribute("data-ready")));
        Select scheduler = new Select(browser.findElement(By.id("scheduler")));
        List<String> names = new ArrayList<>();
        scheduler.getOptions().forEach(o -> names.add(o.getDomAttribute("value")));
        assertThat(names).contains("", "euler-a", "ddim", "dpm++2m");
        assertThat(browser.findElements(By.cssSelector("#conditioning input[type=file]"))).as("image controls from "
                + "the declared parameters").hasSizeGreaterThanOrEqualTo(3);

        browser.findElement(By.id("prompt")).sendKeys("a red circle at the top left");
        browser.findElement(By.id("steps")).sendKeys("900");
        browser.findElement(By.id("seed")).sendKeys("5");
        browser.findElement(By.id("generate")).click();
        waiting(30).until(d -> progress() > 0.02);
        double first = progress();
        waiting(30).until(d -> progress() > first);
        assertThat(browser.findElement(By.id("preview")).getDomProperty("naturalWidth")).isEqualTo("64");
        WebElement cancel = browser.findElement(By.id("cancel"));
        assertThat(cancel.isEnabled()).isTrue();
        cancel.click();
        waiting(30).until(d -> status().equals("cancelled"));
        assertThat(progress()).isLessThan(1.0);
        assertThat(browser.findElements(By.cssSelector("#gallery img"))).isEmpty();

        WebElement steps = browser.findElement(By.id("steps"));
        steps.clear();
        steps.sendKeys("20");
        scheduler.selectByValue("euler-a");
        browser.findElement(By.id("generate")).click();
        waiting(60).withMessage(() -> "page status: " + status()).until(d -> status().equals("done"));
        WebElement result = browser.findElement(By.id("result"));
        waiting(10).until(d -> "64".equals(result.getDomProperty("naturalWidth")));
        assertThat(progress()).isEqualTo(1.0);
        assertThat(browser.findElement(By.id("settings")).getText())
                .startsWith("a red circle at the top left").contains("Steps: 20,", "Seed: 5,", "Sampler: Euler a,", "Conditio scheduler: euler-a")
                // a choice the user left alone (an enum parameter without a default) is not sent
                .contains("Conditio guidance: cfg(3.0),");
        assertThat(browser.findElements(By.cssSelector("#gallery img"))).hasSize(1);

        // an init image chosen in the generated conditioning controls travels as a multipart part
        browser.findElement(By.cssSelector("#conditioning-box summary")).click();
        browser.findElement(By.id("p-init-image")).sendKeys(TestServers.example("inpaint-init.png")
                .toAbsolutePath().normalize().toString());
        browser.findElement(By.id("p-strength")).sendKeys("0.5");
        browser.findElement(By.id("generate")).click();
        waiting(60).until(d -> browser.findElements(By.cssSelector("#gallery img")).size() == 2);
        assertThat(status()).isEqualTo("done");
        assertThat(browser.findElement(By.id("settings")).getText()).contains("Denoising strength: 0.5");

        Path shots = Path.of(System.getProperty("conditio.screenshots", "target/screenshots"));
        Files.createDirectories(shots);
        Files.write(shots.resolve("page.png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        browser.manage().window().setSize(new Dimension(390, 1400));
        Files.write(shots.resolve("page-phone.png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        assertThat(browser.findElement(By.id("generate")).getRect().getWidth()).as("fits a phone").isLessThan(390);
    }
}
