package io.conditio.plugins.preprocessors;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.RgbImage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The OpenPose skeleton drawn on given key points: limb and joint colours, hands, face, missing points. */
class PoseDrawingTest {
    private static final int W = 200;
    private static final int H = 200;

    static int[] rgb(RgbImage image, int x, int y) {
        return new int[] {Math.round(image.get(x, y, 0) * 255), Math.round(image.get(x, y, 1) * 255),
                Math.round(image.get(x, y, 2) * 255)};
    }

    /** A body with the given points (x, y pairs for OpenPose points 0..17; NaN = missing), no hands or face. */
    static Skeleton body(float... xy) {
        float[] body = Skeleton.missing(Skeleton.BODY);
        System.arraycopy(xy, 0, body, 0, xy.length);
        return new Skeleton(body, Skeleton.missing(Skeleton.HAND), Skeleton.missing(Skeleton.HAND),
                Skeleton.missing(Skeleton.FACE));
    }

    private static final float N = Float.NaN;

    @Test
    void limbsAreDrawnInTheirColoursAtSixTenthsAndJointsInFullColour() {
        // nose (100, 30), neck (100, 60), right shoulder (60, 60), right elbow (60, 110), left shoulder (140, 60)
        Skeleton p = body(100, 30, 100, 60, 60, 60, 60, 110, N, N, 140, 60);
        RgbImage out = PoseDrawing.draw(W, H, List.of(p));
        assertThat(rgb(out, 80, 60)).as("neck - right shoulder, limb 0").containsExactly(153, 0, 0);
        assertThat(rgb(out, 120, 60)).as("neck - left shoulder, limb 1").containsExactly(153, 51, 0);
        assertThat(rgb(out, 60, 85)).as("right shoulder - elbow, limb 2").containsExactly(153, 102, 0);
        assertThat(rgb(out, 100, 45)).as("neck - nose, limb 12").containsExactly(0, 0, 153);
        assertThat(rgb(out, 80, 60 + PoseDrawing.STICK_WIDTH)).as("stick half-width 4").containsExactly(153, 0, 0);
        assertThat(rgb(out, 80, 60 + PoseDrawing.STICK_WIDTH + 2)).as("beyond the stick").containsExactly(0, 0, 0);
        assertThat(rgb(out, 100, 30)).as("nose joint").containsExactly(255, 0, 0);
        assertThat(rgb(out, 100, 60)).as("neck joint").containsExactly(255, 85, 0);
        assertThat(rgb(out, 64, 60)).as("right shoulder joint, radius 4").containsExactly(255, 170, 0);
        assertThat(rgb(out, 60, 110)).as("right elbow joint").containsExactly(255, 255, 0);
        assertThat(rgb(out, 140, 60)).as("left shoulder joint").containsExactly(85, 255, 0);
    }

    @Test
    void aMissingPointDrawsNoLimbAndNoJoint() {
        // the right wrist (point 4) is missing: no right elbow - wrist limb (limb 3) below the elbow
        Skeleton p = body(100, 30, 100, 60, 60, 60, 60, 110, N, N);
        RgbImage out = PoseDrawing.draw(W, H, List.of(p));
        for (int y = 120; y < H; y++) {
            for (int x = 0; x < W; x++) {
                assertThat(rgb(out, x, y)).as("(%d, %d)", x, y).containsExactly(0, 0, 0);
            }
        }
        Skeleton withWrist = body(100, 30, 100, 60, 60, 60, 60, 110, 60, 160);
        RgbImage drawn = PoseDrawing.draw(W, H, List.of(withWrist));
        assertThat(rgb(drawn, 60, 135)).as("elbow - wrist, limb 3").containsExactly(153, 153, 0);
        assertThat(rgb(drawn, 60, 160)).as("wrist joint").containsExactly(170, 255, 0);
    }

    @Test
    void theEarShoulderLinksOfTheLimbSequenceAreNotDrawn() {
        // limbs 17 and 18 (right shoulder - left ear... as OpenPose lists them) are left out, as the annotators do
        float[] xy = Skeleton.missing(Skeleton.BODY);
        xy[2 * 2] = 40;
        xy[2 * 2 + 1] = 100;
        xy[2 * 16] = 160;
        xy[2 * 16 + 1] = 100;
        RgbImage out = PoseDrawing.draw(W, H, List.of(new Skeleton(xy, Skeleton.missing(Skeleton.HAND),
                Skeleton.missing(Skeleton.HAND), Skeleton.missing(Skeleton.FACE))));
        assertThat(rgb(out, 100, 100)).containsExactly(0, 0, 0);
        assertThat(rgb(out, 40, 100)).containsExactly(255, 170, 0);
        assertThat(rgb(out, 160, 100)).containsExactly(255, 0, 170);
    }

    @Test
    void handEdgesTakeTheirHueAndHandPointsAreBlue() {
        float[] hand = Skeleton.missing(Skeleton.HAND);
        hand[0] = 20;   // wrist (20, 100)
        hand[1] = 100;
        hand[2] = 60;   // thumb 1 (60, 100): edge 0
        hand[3] = 100;
        hand[2 * 5] = 20;  // index 1 (20, 160): edge 4
        hand[2 * 5 + 1] = 160;
        hand[2 * 9] = 120;  // middle 1 (120, 40): edge 8
        hand[2 * 9 + 1] = 40;
        Skeleton p = new Skeleton(Skeleton.missing(Skeleton.BODY), Skeleton.missing(Skeleton.HAND), hand,
                Skeleton.missing(Skeleton.FACE));
        RgbImage out = PoseDrawing.draw(W, H, List.of(p));
        assertThat(rgb(out, 40, 100)).as("edge 0, hue 0").containsExactly(255, 0, 0);
        assertThat(rgb(out, 20, 130)).as("edge 4, hue 0.2").containsExactly(204, 255, 0);
        assertThat(rgb(out, 70, 70)).as("edge 8, hue 0.4").containsExactly(0, 255, 102);
        assertThat(rgb(out, 40, 102)).as("2-px line: nothing 2 px off").containsExactly(0, 0, 0);
        assertThat(rgb(out, 20, 100)).as("wrist point").containsExactly(0, 0, 255);
        assertThat(rgb(out, 60, 104)).as("point radius 4").containsExactly(0, 0, 255);
        assertThat(PoseDrawing.handEdgeColor(10)).containsExactly(0, 255, 255);
        assertThat(PoseDrawing.handEdgeColor(15)).containsExactly(128, 0, 255);
    }

    @Test
    void facePointsAreWhiteDiscsOfRadiusThreeAndPointsOnTheBorderAreSkipped() {
        float[] face = Skeleton.missing(Skeleton.FACE);
        face[0] = 50;
        face[1] = 50;
        face[2] = 0.5f; // truncates to column 0: not drawn, as the annotators' x > 0.01 test
        face[3] = 80;
        Skeleton p = new Skeleton(Skeleton.missing(Skeleton.BODY), Skeleton.missing(Skeleton.HAND),
                Skeleton.missing(Skeleton.HAND), face);
        RgbImage out = PoseDrawing.draw(W, H, List.of(p));
        assertThat(rgb(out, 50, 50)).containsExactly(255, 255, 255);
        assertThat(rgb(out, 53, 50)).containsExactly(255, 255, 255);
        assertThat(rgb(out, 54, 50)).containsExactly(0, 0, 0);
        assertThat(rgb(out, 53, 52)).as("3² + 2² > 3²").containsExactly(0, 0, 0);
        assertThat(rgb(out, 1, 80)).containsExactly(0, 0, 0);
    }

    @Test
    void wholeBodyPointsBecomeOpenPoseWithTheNeckBetweenTheShoulders() {
        float[] x = new float[133];
        float[] y = new float[133];
        float[] s = new float[133];
        for (int i = 0; i < 133; i++) {
            x[i] = 10 + i;
            y[i] = 200 - i;
            s[i] = 0.9f;
        }
        s[4] = 0.3f; // right ear at exactly 0.3: a body point needs more
        s[23] = 0.3f; // first face point at 0.3: kept
        s[91] = 0.29f; // left wrist of the hand: dropped
        Skeleton k = Skeleton.fromWholeBody(x, y, s);
        assertThat(k.body()[2]).as("neck x = mean of COCO 5, 6").isEqualTo((15 + 16) / 2f);
        assertThat(k.body()[3]).isEqualTo((195 + 194) / 2f);
        assertThat(k.body()[2 * 2]).as("right shoulder = COCO 6").isEqualTo(16);
        assertThat(k.body()[2 * 5]).as("left shoulder = COCO 5").isEqualTo(15);
        assertThat(k.body()[2 * 14]).as("right eye = COCO 2").isEqualTo(12);
        assertThat(k.body()[2 * 17]).as("left ear = COCO 3").isEqualTo(13);
        assertThat(Skeleton.present(k.body(), 16)).as("right ear at 0.3").isFalse();
        assertThat(k.face()[0]).as("face = COCO 23..90").isEqualTo(33);
        assertThat(Skeleton.present(k.leftHand(), 0)).isFalse();
        assertThat(k.leftHand()[2]).as("left hand = COCO 91..111").isEqualTo(10 + 92);
        assertThat(k.rightHand()[0]).as("right hand = COCO 112..132").isEqualTo(10 + 112);
        s[5] = 0.2f;
        assertThat(Skeleton.present(Skeleton.fromWholeBody(x, y, s).body(), 1)).as("neck needs both shoulders")
                .isFalse();
    }
}
