// FunctionRef: a non-owning, non-allocating reference to a callable, for passing work to the thread pool.
#pragma once

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace rf {

template <class Signature>
class FunctionRef;

// Two words: the callable's address and a trampoline that casts it back. The referenced callable must
// outlive every call; binding a temporary is fine for a call that completes within the full-expression,
// e.g. `pool.run([&](int i, int n) { ... });`.
template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
             !std::is_function_v<std::remove_reference_t<F>> &&  // wrap plain functions in a lambda
             std::is_invocable_r_v<R, F&, Args...>)
  FunctionRef(F&& f) noexcept  // NOLINT: implicit by design, like std::function
      : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* obj, Args... args) -> R {
          return std::invoke(*static_cast<std::remove_reference_t<F>*>(obj), std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(obj_, std::forward<Args>(args)...); }

 private:
  void* obj_;
  R (*call_)(void*, Args...);
};

}  // namespace rf
