// Just enough of an OpenTelemetry ContextManager for `context.with` to make a span active,
// synchronously, without async hooks: for unit tests that drive the registry in one stack.
import { ROOT_CONTEXT } from '@opentelemetry/api';

export class StackContextManager {
  stack = [ROOT_CONTEXT];
  active() {
    return this.stack[this.stack.length - 1];
  }
  with(ctx, fn, thisArg, ...args) {
    this.stack.push(ctx);
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.stack.pop();
    }
  }
  bind(_ctx, target) {
    return target;
  }
  enable() {
    return this;
  }
  disable() {
    return this;
  }
}
