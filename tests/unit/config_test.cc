// Engine configurations by name (oracle/config.h): every listed name parses
// to what its line says, arguments are checked, and unknown names are
// refused with the list.
#include <gtest/gtest.h>

#include "oracle/config.h"

namespace slabfuzz {
namespace {

TEST(EngineConfig, EveryListedNameParses) {
  for (const EngineConfigName& n : engineConfigNames()) {
    auto c = parseEngineConfig(n.name);
    ASSERT_TRUE(c.ok()) << n.name << ": " << c.error();
    EXPECT_EQ(c->name, n.name);
    EXPECT_EQ(c->heap == EngineConfig::HeapKind::Reference, n.name == "ref") << n.name;
  }
}

TEST(EngineConfig, EachNameSetsWhatItSays) {
  auto zeal = parseEngineConfig("slab-zeal");
  ASSERT_TRUE(zeal.ok());
  EXPECT_EQ(zeal->slab.zeal.mode, Zeal::Mode::EverySafepoint);
  EXPECT_EQ(zeal->stack_maps, StackMapMode::Precise);

  auto cons = parseEngineConfig("slab-conservative");
  ASSERT_TRUE(cons.ok());
  EXPECT_EQ(cons->stack_maps, StackMapMode::Conservative);
  EXPECT_EQ(withConfig(RunLimits{}, cons.value()).stack_maps, StackMapMode::Conservative);

  auto small = parseEngineConfig("slab-small");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->slab.slab_bytes, SlabHeapConfig::smallSlabs().slab_bytes);
  EXPECT_LT(small->slab.slab_bytes, SlabHeapConfig{}.slab_bytes);

  auto normal = parseEngineConfig("slab");
  ASSERT_TRUE(normal.ok());
  EXPECT_EQ(normal->slab.zeal.mode, Zeal::Mode::None);

  auto random = parseEngineConfig("slab-random:42");
  ASSERT_TRUE(random.ok());
  EXPECT_EQ(random->slab.zeal.mode, Zeal::Mode::Random);
  EXPECT_EQ(random->slab.zeal.seed, 42u);

  auto alloc = parseEngineConfig("slab-alloc:3");
  ASSERT_TRUE(alloc.ok());
  EXPECT_EQ(alloc->slab.zeal.mode, Zeal::Mode::EveryNAllocations);
  EXPECT_EQ(alloc->slab.zeal.n, 3u);
}

TEST(EngineConfig, BadNamesAndArgumentsAreRefused) {
  auto unknown = parseEngineConfig("slab-fast");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().find("slab-zeal"), std::string::npos) << unknown.error();
  EXPECT_FALSE(parseEngineConfig("slab-random:x").ok());
  EXPECT_FALSE(parseEngineConfig("slab-random:").ok());
  EXPECT_FALSE(parseEngineConfig("slab-alloc:0").ok());
  EXPECT_FALSE(parseEngineConfig("slab-zeal:3").ok());
  EXPECT_FALSE(parseEngineConfig("").ok());
}

TEST(EngineConfig, FactoriesMakeTheNamedHeap) {
  TypeStore types;
  auto ref = parseEngineConfig("ref");
  auto slab = parseEngineConfig("slab-small");
  ASSERT_TRUE(ref.ok() && slab.ok());
  EXPECT_FALSE(makeHeapFactory(ref.value())(types)->collects());
  EXPECT_TRUE(makeHeapFactory(slab.value())(types)->collects());
}

}  // namespace
}  // namespace slabfuzz
