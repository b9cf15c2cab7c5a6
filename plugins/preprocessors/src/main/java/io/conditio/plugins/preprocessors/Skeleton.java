package io.conditio.plugins.preprocessors;

import java.util.Arrays;

/**
 * One person's key points in the OpenPose layout the pose ControlNets were trained on, in image pixels; a missing
 * point has NaN coordinates. Body: the 18 OpenPose points (0 nose, 1 neck, 2-4 right shoulder/elbow/wrist, 5-7 left,
 * 8-10 right hip/knee/ankle, 11-13 left, 14/15 right/left eye, 16/17 right/left ear; "right" is the person's right);
 * each hand: 21 points (wrist, then four per finger from the thumb); face: 68 points.
 *
 * @param body      36 values, x and y of each body point
 * @param leftHand  42 values
 * @param rightHand 42 values
 * @param face      136 values
 */
record Skeleton(float[] body, float[] leftHand, float[] rightHand, float[] face) {
    static final int BODY = 18;
    static final int HAND = 21;
    static final int FACE = 68;
    /** COCO-WholeBody key points: 17 body, 6 feet, 68 face, 21 left hand, 21 right hand. */
    static final int WHOLE_BODY = 133;
    /** A body point is kept above this score (DWPose: {@code score > 0.3}). */
    static final float BODY_THRESHOLD = 0.3f;
    /** A hand or face point is kept unless its score is below this (DWPose: dropped when {@code score < 0.3}). */
    static final float DETAIL_THRESHOLD = 0.3f;

    /** OpenPose body point i comes from COCO point {@code FROM_COCO[i]}; -1 is the neck (mean of the shoulders). */
    private static final int[] FROM_COCO = {0, -1, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3};
    private static final int FACE_START = 23;
    private static final int LEFT_HAND_START = 91;
    private static final int RIGHT_HAND_START = 112;

    Skeleton {
        check(body, BODY, "body");
        check(leftHand, HAND, "left hand");
        check(rightHand, HAND, "right hand");
        check(face, FACE, "face");
    }

    private static void check(float[] xy, int points, String what) {
        if (xy.length != points * 2) {
            throw new IllegalArgumentException(what + " needs " + points * 2 + " values (x, y per point), got "
                    + xy.length);
        }
    }

    /**
     * Converts COCO-WholeBody key points as DWPose does: the neck is the mean of the shoulders, present when both
     * shoulders score above 0.3; body points are kept when they score above 0.3, hand and face points unless they
     * score below 0.3; the six foot points are not drawn by the OpenPose format and are dropped.
     *
     * @param x     133 x coordinates in image pixels
     * @param y     133 y coordinates
     * @param score 133 scores
     * @return the skeleton
     */
    static Skeleton fromWholeBody(float[] x, float[] y, float[] score) {
        if (x.length != WHOLE_BODY || y.length != WHOLE_BODY || score.length != WHOLE_BODY) {
            throw new IllegalArgumentException("COCO-WholeBody has " + WHOLE_BODY + " key points, got " + x.length);
        }
        float[] body = missing(BODY);
        for (int i = 0; i < BODY; i++) {
            int c = FROM_COCO[i];
            if (c >= 0) {
                if (score[c] > BODY_THRESHOLD) {
                    body[2 * i] = x[c];
                    body[2 * i + 1] = y[c];
                }
            } else if (score[5] > BODY_THRESHOLD && score[6] > BODY_THRESHOLD) {
                body[2 * i] = (x[5] + x[6]) / 2;
                body[2 * i + 1] = (y[5] + y[6]) / 2;
            }
        }
        return new Skeleton(body, detail(x, y, score, LEFT_HAND_START, HAND),
                detail(x, y, score, RIGHT_HAND_START, HAND), detail(x, y, score, FACE_START, FACE));
    }

    private static float[] detail(float[] x, float[] y, float[] score, int start, int count) {
        float[] out = missing(count);
        for (int i = 0; i < count; i++) {
            if (score[start + i] >= DETAIL_THRESHOLD) {
                out[2 * i] = x[start + i];
                out[2 * i + 1] = y[start + i];
            }
        }
        return out;
    }

    /** @return {@code points} missing points */
    static float[] missing(int points) {
        float[] out = new float[points * 2];
        Arrays.fill(out, Float.NaN);
        return out;
    }

    static boolean present(float[] xy, int point) {
        return !Float.isNaN(xy[2 * point]) && !Float.isNaN(xy[2 * point + 1]);
    }
}
