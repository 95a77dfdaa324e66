package dev.d2v.infra.kafka;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension over {@link SharedLocalKafka}: {@code @ExtendWith(LocalKafkaExtension.class)} starts the
 * shared broker before the class's tests and injects it into any {@link LocalKafka} parameter (constructor,
 * lifecycle method or test method). The broker lives until the test JVM exits.
 */
public final class LocalKafkaExtension implements BeforeAllCallback, ParameterResolver {
    @Override
    public void beforeAll(ExtensionContext context) {
        SharedLocalKafka.get();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == LocalKafka.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return SharedLocalKafka.get();
    }
}
