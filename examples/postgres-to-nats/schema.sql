-- The table the flow reads (PostgreSQL).
CREATE TABLE IF NOT EXISTS shop_orders (
    id        bigserial PRIMARY KEY,
    customer  text           NOT NULL,
    total     numeric(12, 2) NOT NULL,
    placed_at timestamptz    NOT NULL DEFAULT now()
);
