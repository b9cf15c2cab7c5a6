package io.conditio.api;

/** Whether a building block's subclass overrides a method, so a buffer-reusing form may stand for the plain one. */
final class Overrides {
    private Overrides() {
    }

    /**
     * @param self       the instance
     * @param owner      the building block that declares the method
     * @param method     the public method's name
     * @param parameters its parameter types
     * @return whether {@code self}'s class leaves the method as {@code owner} declares it
     */
    static boolean keeps(Object self, Class<?> owner, String method, Class<?>... parameters) {
        try {
            return self.getClass().getMethod(method, parameters).getDeclaringClass() == owner;
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
    }
}
