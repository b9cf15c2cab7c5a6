package io.conditio.api;

/** Element types a model input or output may declare. */
public enum ElementType {
    /** 32-bit IEEE float. */
    FLOAT32,
    /** 16-bit IEEE float. */
    FLOAT16,
    /** 64-bit signed integer. */
    INT64,
    /** 32-bit signed integer. */
    INT32,
    /** Any other type; the runtime cannot feed it. */
    OTHER
}
