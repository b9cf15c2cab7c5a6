/**
 * The Conditio SPI: everything a plugin author or a host application touches.
 *
 * <p>Extension points (all {@link org.pf4j.ExtensionPoint}s) are small and single-purpose:
 * {@link io.conditio.api.SchedulerProvider} hands out one {@link io.conditio.api.Scheduler} per generation,
 * {@link io.conditio.api.Conditioner} prepares one {@link io.conditio.api.Conditioning} per generation,
 * {@link io.conditio.api.GuidanceProvider} chooses how the batch is laid out and combined, or wraps the guidance
 * below it, and
 * {@link io.conditio.api.BeforeStepCallback} / {@link io.conditio.api.AfterStepCallback} observe the loop.
 * Plugins never see ONNX Runtime or Guice types: models are {@link io.conditio.api.Model}s and tensors are
 * {@link io.conditio.api.FloatTensor} / {@link io.conditio.api.LongTensor} views on Java arrays.
 *
 * <p>The SPI is versioned ({@link io.conditio.api.SpiVersion}); a plugin states the range it needs in its
 * {@code Plugin-Requires} manifest entry and the host refuses plugins outside it.
 */
package io.conditio.api;
